"""Evidence we hand out: certificate PDFs, transcripts and evidence packs, their signatures and their checks.

`pdf` renders (in a renderer process of its own) and `signing` signs and verifies, without a
database or Flask app; `certificates`, `transcript` and `pack` gather the data and store or
return the documents; the views serve them and the public verification page.
"""
