"""The app as deployed: gunicorn in production mode over TLS, signing in with a second factor.

Everything is set up the way the README deploys it (migrations, `lms content load`, a signing
key, the first admin from `lms create-user`), on a SQLite file in a temporary folder, with
BASE_URL on https://127.0.0.1:<port> and gunicorn serving TLS with a certificate made here.
In production admins must use a second factor (MFA_REQUIRED_ROLES' default): the admin enrols
an authenticator app before reaching any admin page, signs in with a code the next time, and
requires one of the agents' organisation too; the agent then enrols, takes the quiz and
downloads the signed certificate.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from lms import create_app
from lms.certification.models import Award, Programme
from lms.certification import services as certification
from lms.extensions import db
from tests.browser.test_assessment_browser import expect, submit, take_whole_quiz, the_attempt

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIXTURE = ROOT / "tests" / "content" / "fixtures" / "valid"
PASSWORD = "a long production passphrase 2026"
ADMIN, AGENT = "admin@academy.example", "agent@academy.example"
ORGANISATION = "Northwind Utilities"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tls_pair(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a local TLS endpoint would have."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = folder / "tls-key.pem", folder / "tls-cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def production(tmp_path: Path, browser) -> Iterator[dict]:
    port = _free_port()
    base = f"https://127.0.0.1:{port}"
    database = tmp_path / "lms.sqlite3"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MFA_", "TEST_DATABASE", "LMS_", "SESSION_", "BASE_URL"))}
    env.update({
        "LMS_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(36)[:48], "BASE_URL": base,
        "DATABASE_URL": f"sqlite:///{database}", "LMS_CONTENT_ROOT": str(FIXTURE),
        "SIGNING_KEY_PATH": str(tmp_path / "signing" / "key.pem"),
        "SIGNING_CERT_PATH": str(tmp_path / "signing" / "cert.pem"),
        "AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.txt"),
    })
    _run(env, "db", "upgrade")
    _run(env, "lms", "content", "load")
    _run({**env, "LMS_ENV": "development"}, "lms", "evidence", "dev-key")  # production refuses dev keys
    _run(env, "lms", "create-user", "--email", ADMIN, "--name", "Aoife Admin", "--role", "admin",
         "--organisation", ORGANISATION, "--country", "IE", "--password", PASSWORD)
    _run(env, "lms", "create-user", "--email", AGENT, "--name", "Maria Santos", "--role", "agent",
         "--organisation", ORGANISATION, "--password", PASSWORD)

    # The test reads the same database (the attempt's draw, to answer it) and assigns the programme.
    reader = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"}, profile="test")
    with reader.app_context():
        programme = db.session.scalars(select(Programme)).one()
        certification.assign(None, programme, organisation_id=1, due_days=30)
        db.session.commit()

    tls_key, tls_cert = _tls_pair(tmp_path)
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--certfile", str(tls_cert), "--keyfile", str(tls_key), "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        trust = ssl.create_default_context(cafile=str(tls_cert))
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{base}/healthz", context=trust, timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
        context = browser.new_context(base_url=base, ignore_https_errors=True, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(20_000)
        with reader.app_context():
            yield {"page": page, "context": context, "base": base, "env": env}
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


def _enrol_app(page) -> pyotp.TOTP:
    """From the page that says a second factor is required, through the app's set-up."""
    expect(page.get_by_text("Your role requires a second factor")).to_be_visible()
    page.get_by_role("link", name="Set up an authenticator app").click()
    totp = pyotp.TOTP(page.locator(".totp-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    return totp


def _sign_out(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def test_production_sign_in_with_a_second_factor_a_quiz_and_a_certificate(production):
    page, base = production["page"], production["base"]

    # A new admin: the password alone reaches no admin page.
    _sign_in(page, ADMIN)
    response = page.goto("/admin/users")
    assert page.url == f"{base}/account/mfa"
    assert response.headers["strict-transport-security"].startswith("max-age=")
    cookie = next(c for c in production["context"].cookies() if c["name"] == "session")
    assert cookie["secure"] and cookie["httpOnly"]
    admin_app = _enrol_app(page)
    page.goto("/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    _sign_out(page)

    # Next time: password, then a code (the next step's: the enrolment used this one).
    _sign_in(page, ADMIN)
    assert page.url == f"{base}/login/verify"
    page.get_by_label("Code").fill(admin_app.at(time.time() + 30))
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    # The agents' organisation now requires a second factor of its agents too.
    page.goto("/admin/organisations")
    with page.expect_navigation():
        page.get_by_role("link", name=ORGANISATION).click()
    page.get_by_label("Agent", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"{ORGANISATION} saved.")).to_be_visible()
    _sign_out(page)

    # The agent enrols, reads the course, passes the quiz and downloads the certificate.
    _sign_in(page, AGENT)
    page.goto("/")
    _enrol_app(page)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Maria")
    todo = page.get_by_role("region", name="What you must do next")
    with page.expect_navigation():
        todo.get_by_role("button", name=re.compile("^Read: ")).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Start reading").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Mark as read and continue").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Mark as read and finish").click()
    page.goto("/")
    with page.expect_navigation():
        todo.get_by_role("button", name=re.compile("^Take the quiz: ")).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Start the quiz").click()
    take_whole_quiz(page, the_attempt(), right=True)
    submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 100%")

    page.goto("/")
    awards = page.get_by_role("region", name="My awards")
    with page.expect_download(timeout=60_000) as info:
        awards.get_by_role("link", name=re.compile("^Certificate \\(PDF\\)")).click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    db.session.expire_all()
    award = db.session.scalars(select(Award)).one()
    assert award.verification_code in page.content()
    # The stored certificate carries BASE_URL's address, whatever the request said.
    assert f"carries BASE_URL's address ({base})" in _run(production["env"], "lms", "evidence", "check-addresses")
