"""The bare Flask app the assessment benchmark compares against.

It does what any Flask endpoint does (route, parse a form, answer JSON) and
nothing else: no database, sessions, CSRF, sign-in or templates. Served by the
same gunicorn settings as the LMS, its throughput is the ceiling one request
can reach on this machine; `bench/assessment.py` reports the LMS relative to it.
"""
from __future__ import annotations

from flask import Flask, request

app = Flask(__name__)


@app.get("/")
def index() -> tuple[str, int]:
    """Readiness probe."""
    return "ok", 200


@app.post("/answer")
def answer() -> dict[str, object]:
    """The bare counterpart of saving an answer: read the form, reply with JSON."""
    return {"saved": True, "option": request.form.get("option", "")}
