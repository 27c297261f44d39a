"""Access logs never keep a one-time link's token: the filter, and gunicorn.conf.py wiring it."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from flask import Flask
from gunicorn.glogging import SafeAtoms

from lms.access_log import PLACEHOLDER, RedactTokenPaths
from lms.accounts import services
from lms.accounts.models import Role, SetPasswordToken
from lms.extensions import db
from lms.config import PROJECT_ROOT
from tests import factories

TOKEN = "pQ3x_Zk9-LmN0aBcDeFgHiJkLmNoPqRsTuVwXyZ01"
FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'  # gunicorn's default


def _gunicorn_record(path: str, referer: str = "-") -> logging.LogRecord:
    """A record as gunicorn's Logger.access() makes it: its format, and one mapping of atoms."""
    atoms = SafeAtoms({"h": "127.0.0.1", "l": "-", "u": "-", "t": "[05/Dec/2026:16:00:00 +0000]",
                       "r": f"GET {path} HTTP/1.1", "s": "302", "b": "199", "f": referer, "a": "curl/8",
                       "U": path.split("?")[0], "q": path.partition("?")[2]})
    return logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, FORMAT, (atoms,), None)


def test_the_filter_redacts_the_token_of_both_kinds_of_link():
    for path in (f"/set-password/{TOKEN}", f"/reset-password/{TOKEN}?utm=mail", f"/Reset-Password/{TOKEN}"):
        record = _gunicorn_record(path, referer=f"https://academy.example/set-password/{TOKEN}")
        assert RedactTokenPaths().filter(record) is True  # redacted, never dropped
        line = record.getMessage()
        assert TOKEN not in line and f"-password/{PLACEHOLDER}" in line, line
        assert record.args["{missing}i"] == "-"  # still gunicorn's atoms mapping
    other = _gunicorn_record("/courses/set-passwords-safely")
    RedactTokenPaths().filter(other)
    assert "/courses/set-passwords-safely" in other.getMessage()
    clean = _gunicorn_record("/set-password")
    RedactTokenPaths().filter(clean)
    assert '"GET /set-password HTTP/1.1"' in clean.getMessage()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_gunicorn_conf_installs_the_filter_on_the_access_log(app: Flask, tmp_path: Path):
    agent = factories.user(Role.AGENT, password=None)
    db.session.commit()
    token = services.issue_password_link(None, agent, 72)
    db.session.commit()
    port, access_log = _free_port(), tmp_path / "access.log"
    env = {**os.environ, "LMS_ENV": "development", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "LMS_WORKERS": "1", "LMS_BIND": f"127.0.0.1:{port}", "AUDIT_CHECKPOINT_FILE": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", str(access_log),
         "--error-logfile", str(tmp_path / "error.log"), "wsgi:app"],
        cwd=PROJECT_ROOT, env=env)
    try:
        opener = urllib.request.build_opener(_NoRedirect)
        deadline = time.monotonic() + 30
        while True:
            try:
                opener.open(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # a worker still booting
                assert time.monotonic() < deadline, (tmp_path / "error.log").read_text()
                time.sleep(0.2)
        try:
            opener.open(f"http://127.0.0.1:{port}/set-password/{token}", timeout=10)
        except urllib.error.HTTPError as reply:  # the redirect, not followed
            assert reply.code == 302 and reply.headers["Location"] == "/set-password"
        deadline = time.monotonic() + 10
        while "-password/" not in access_log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = access_log.read_text()
    assert f'"GET /set-password/{PLACEHOLDER} HTTP/1.1" 302' in log
    assert token not in log
    db.session.expire_all()
    assert db.session.get(SetPasswordToken, 1).opened_at is not None  # the request did reach the app
