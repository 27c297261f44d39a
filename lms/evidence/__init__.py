"""Evidence we hand out: certificate PDFs (`pdf`) and their signatures (`signing`).

Both are plain functions without a database or Flask app, so jobs, views and the
CLI call them alike.
"""
