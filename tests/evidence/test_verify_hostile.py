"""A crafted PDF at /verify gets a clear 400, never a 500, and the worker carries on."""
from __future__ import annotations

import io
from pathlib import Path

from lms.evidence import signing
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.conftest import csrf_token
from tests.evidence.test_certificates import certified  # noqa: F401 (fixture)

DEPTH = 200_000


def _deep_pdf() -> bytes:
    """A well-formed PDF whose catalog holds an array nested DEPTH deep (an outside test's file)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * DEPTH + b"]" * DEPTH + b" >>",
               b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_nested_200000_deep_gets_a_clear_400_unparsed_and_the_next_check_works(
        app, certified, client, login_as, monkeypatch):
    parsed: list[bytes] = []
    real_check = signing.verify_pdf_signature
    monkeypatch.setattr(signing, "verify_pdf_signature", lambda pdf, trusted: parsed.append(pdf) or real_check(pdf, trusted))
    hostile = client.post("/verify", data={"file": (io.BytesIO(_deep_pdf()), "c.pdf"),
                                           "csrf_token": csrf_token(client, "/verify")},
                          content_type="multipart/form-data")
    page = hostile.get_data(as_text=True)
    assert hostile.status_code == 400
    assert "Not verified" in page and "This file is not a certificate we issued, or it has been altered" in page
    assert "Content-Security-Policy" in hostile.headers
    assert parsed == []  # its fingerprint answered: no PDF reader ever saw it
    # The same worker answers the next request normally, and our own file is read for its signature.
    login_as(certified["agent"])
    genuine = client.get(f"/awards/{certified['award'].id}/certificate.pdf").data
    ok = client.post("/verify", data={"file": (io.BytesIO(genuine), "c.pdf"), "csrf_token": csrf_token(client, "/verify")},
                     content_type="multipart/form-data")
    assert ok.status_code == 200 and "genuine, unaltered certificate" in ok.get_data(as_text=True)
    assert parsed == [genuine]


def test_the_cli_says_the_same_of_a_deep_pdf(app, certified, runner, tmp_path: Path):
    path = tmp_path / "deep.pdf"
    path.write_bytes(_deep_pdf())
    result = runner.invoke(args=["lms", "evidence", "verify", str(path)])
    assert result.exit_code == 1 and "matches no certificate we issued" in result.output
    assert "Signature" not in result.output
