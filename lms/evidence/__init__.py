"""Evidence we hand out: certificate PDFs, transcripts and evidence packs, their signatures and their checks.

`documents` fills the PDF templates, `renderer` turns HTML into PDF in a renderer process of its
own (which alone loads WeasyPrint and `url_fetcher`), and `signing` signs and verifies: none of
them needs a database or a Flask app. `certificates`, `transcript` and `pack` gather the data and
store or return the documents; the views serve them and the public verification page.
"""
