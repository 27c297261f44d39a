"""Certificate PDFs: what they show, PDF/A-3b with the JSON record inside, escaping, the
fetcher that loads nothing from outside, and the time and memory bounds on rendering.

The PDFs are read back with the tools an auditor would use (poppler's pdftotext/pdfinfo,
qpdf), not with our own code.
"""
from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
from weasyprint.images import ImageLoadingError
from weasyprint.urls import URLFetchingError

from lms.evidence import documents, renderer
from lms.evidence.documents import certificate_html, qr_svg_data_uri
from lms.evidence.renderer import PROJECT_ROOT, STATIC_PDF_DIR, Attachment, RenderError, render_pdf
from lms.evidence.url_fetcher import RefusedURL, SafeFetcher

CODE = "K7QX3M9PTR2W8HJD5VNCYB4F"
BRANDING = {"company_name": "Northwind Contact Centres", "primary_colour": "#0f5c73",
            "signatory_name": "Priya Raman", "signatory_title": "Data Protection Officer"}


def certificate_data(**overrides):
    data = {
        "agent_name": "Jane Agent",
        "organisation": "Northwind Contact Centres Ltd",
        "programme": "GDPR Essentials for Contact-Centre Agents",
        "courses": [{"title": "Lawful basis and consent on calls",
                     "version": "3f9a1c0b7d2e4f5a6b7c8d9e0f1a2b3c4d5e6f70"},
                    {"title": "Identity checks before disclosure", "version": "a1b2c3d4e5f6"}],
        "quizzes": [{"title": "GDPR Essentials final assessment", "percent": 92,
                     "version": "77aa88bb99cc00dd11ee22ff33aa44bb55cc66dd"}],
        "issued_at": date(2025, 3, 12),
        "valid_until": date(2026, 3, 12),
        "verification_code": CODE,
        "verify_url": f"https://academy.example.com/verify/{CODE}",
    }
    data.update(overrides)
    return data


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=60)


def save(pdf: bytes, tmp_path: Path, name: str = "out.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return str(path)


def text_of(path: str) -> str:
    """The PDF's text with whitespace collapsed (long names wrap across lines)."""
    return " ".join(run("pdftotext", path, "-").stdout.split())


# --- the certificate ---------------------------------------------------------------------------


def test_certificate_is_pdfa3b_with_its_record_embedded(tmp_path):
    data = certificate_data()
    record = {"verification_code": CODE, "agent": data["agent_name"],
              "courses": data["courses"], "quizzes": data["quizzes"]}
    pdf = render_pdf(certificate_html(data, branding=BRANDING), attachments=[
        Attachment("certificate.json", json.dumps(record).encode(), "application/json",
                   "The certificate's record, machine-readable")])
    path = save(pdf, tmp_path)

    text = text_of(path)
    for shown in ("Certificate of completion", "Jane Agent", "Northwind Contact Centres Ltd",
                  "GDPR Essentials for Contact-Centre Agents", CODE,
                  "Lawful basis and consent on calls", "3f9a1c0b7d2e",  # 12-digit version
                  "a1b2c3d4e5f6", "GDPR Essentials final assessment", "77aa88bb99cc", "92 %",
                  "12 March 2025", "12 March 2026", "Priya Raman", "Data Protection Officer"):
        assert shown in text, shown
    assert f"https://academy.example.com/verify/{CODE}" in text.replace(" ", "")  # it wraps
    assert "3f9a1c0b7d2e4" not in text  # the table shows the short form

    info = run("pdfinfo", path).stdout
    assert re.search(r"Pages:\s+1\n", info)
    assert "841.89 x 595.28" in info or "841.89 x 595.276" in info  # A4 landscape
    meta = run("pdfinfo", "-meta", path).stdout
    assert re.search(r'pdfaid:part(="|>)3', meta), meta
    assert re.search(r'pdfaid:conformance(="|>)B', meta), meta
    assert "Certificate of completion: Jane Agent" in meta  # dc:title, from <title>

    assert run("qpdf", "--check", path).returncode == 0
    attachments = run("qpdf", "--list-attachments", "--verbose", path).stdout
    assert "certificate.json" in attachments
    assert "mime type: application/json" in attachments
    assert json.loads(run("qpdf", "--show-attachment=certificate.json", path).stdout) == record
    # PDF/A-3 associated file: listed in the catalog's /AF with its relationship.
    plain = tmp_path / "plain.pdf"
    run("qpdf", "--qdf", "--object-streams=disable", path, str(plain))
    objects = plain.read_bytes()
    assert b"/AFRelationship /Data" in objects
    assert re.search(rb"/AF \[\s*\d+ 0 R\s*\]", objects)
    assert f"/URI (https://academy.example.com/verify/{CODE})".encode() in objects  # a live link


def test_without_pdfa_the_document_declares_no_conformance(tmp_path):
    path = save(render_pdf("<p>Plain report</p>", pdfa=False), tmp_path)
    assert "Plain report" in text_of(path)
    assert "pdfaid" not in run("pdfinfo", "-meta", path).stdout


def test_user_typed_names_come_out_as_text(tmp_path):
    name = """<script>alert("x")</script> O'Brien & "Sons" <b>bold</b>"""
    data = certificate_data(agent_name=name, organisation="<i>Org</i> & Co",
                            programme="Prog <u>ramme</u>",
                            courses=[{"title": "<img src=x onerror=alert(1)>Course", "version": "1"}])
    html = certificate_html(data, branding={**BRANDING, "company_name": "A&B <Ltd>",
                                            "signatory_name": "<em>Sig</em>"})
    assert "<script>" not in html and "<b>bold" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien &amp; &#34;Sons&#34;" in html

    text = text_of(save(render_pdf(html), tmp_path))
    for shown in (name, "<i>Org</i> & Co", "Prog <u>ramme</u>", "<img src=x onerror=alert(1)>Course",
                  "A&B <Ltd>", "<em>Sig</em>"):
        assert shown in text, shown


def test_branding_is_validated():
    html = certificate_html(certificate_data(), branding={
        **BRANDING, "primary_colour": "red; } body { display: none", "logo": "../../requirements.txt"})
    assert "display: none" not in html
    assert f"--brand: {documents.DEFAULT_BRAND_COLOUR};" in html
    assert 'src="logo.svg"' in html and "requirements.txt" not in html

    html = certificate_html(certificate_data(), branding={**BRANDING, "primary_colour": "#A1B2C3",
                                                           "logo": "logo.svg"})
    assert "--brand: #A1B2C3;" in html

    html = certificate_html(certificate_data(valid_until=None, quizzes=[], issued_at="2025-03-12"),
                            branding=BRANDING)
    assert "No expiry date" in html and "Assessments passed" not in html and "12 March 2025" in html


def test_qr_code_is_an_svg_data_uri_of_the_url():
    uri = qr_svg_data_uri(f"https://academy.example.com/verify/{CODE}")
    assert uri.startswith("data:image/svg+xml")
    svg = unquote(uri.split(",", 1)[1])
    assert svg.startswith("<svg") and "path" in svg
    # Version 4 at error level M holds this URL: 33 modules plus a 4-module quiet zone a side.
    assert "width='41'" in svg or 'width="41"' in svg
    assert qr_svg_data_uri("https://academy.example.com/verify/other") != uri


def test_attachment_metadata_is_checked():
    with pytest.raises(ValueError, match="MIME type"):
        render_pdf("<p>x</p>", attachments=[Attachment("a.json", b"{}", "application/json\n/x", "")])
    with pytest.raises(ValueError, match="file name"):
        render_pdf("<p>x</p>", attachments=[Attachment("dir/", b"{}", "application/json", "")])


# --- loading nothing from outside -------------------------------------------------------------


@pytest.fixture
def listener():
    """A TCP server on loopback that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    connections: list[bytes] = []
    stop = threading.Event()

    def accept_loop():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    connections.append(conn.recv(200) or b"(connected)")
                except OSError:
                    connections.append(b"(connected)")

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join(5)
    server.close()


def hostile_html(port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    requirements = (PROJECT_ROOT / "requirements.txt").as_uri()
    return f"""<html><head>
<link rel=stylesheet href="{url}/s.css">
<style>@import url({url}/i.css);
  @font-face {{ font-family: evil; src: url({url}/f.ttf) }}
  body {{ background: url({url}/bg.png); font-family: evil }}</style>
<link rel=attachment href="file:///etc/passwd">
</head><body><p>Hostile document</p>
<img src="{url}/x.png"><img src="https://127.0.0.1:{port}/y.png"><img src="ftp://127.0.0.1:{port}/z">
<img src="file:///etc/passwd"><img src="{requirements}">
<img src="{STATIC_PDF_DIR.as_uri()}/../../requirements.txt">
<img src="{STATIC_PDF_DIR.as_uri()}/%2e%2e/%2e%2e/requirements.txt">
<img src="file://127.0.0.1/etc/passwd">
<iframe src="{url}/frame"></iframe><iframe src="file:///etc/passwd"></iframe>
<object data="{url}/obj.svg" type="image/svg+xml"></object><object data="file:///etc/passwd"></object>
<embed src="{url}/embed.png">
<svg width="10" height="10"><image href="{url}/svg.png" width="10" height="10"/></svg>
<a rel=attachment href="file:///etc/passwd">passwd</a> <a rel=attachment href="{url}/att">att</a>
</body></html>"""


def test_a_render_makes_no_connection_and_reads_no_other_file(listener, tmp_path):
    port, connections = listener
    # As user-authored text arrives in a certificate (escaped by the template) ...
    name = f'<img src="http://127.0.0.1:{port}/name.png"> Jane'
    certificate = save(render_pdf(certificate_html(certificate_data(agent_name=name),
                                                   branding=BRANDING)), tmp_path, "cert.pdf")
    assert name in text_of(certificate)
    # ... and as raw HTML handed to the renderer.
    path = save(render_pdf(hostile_html(port)), tmp_path)

    time.sleep(0.2)  # a connection attempt would have been accepted by now
    assert connections == []
    text = text_of(path)
    assert "Hostile document" in text  # the render went on without the refused resources
    assert "root:x:0:0" not in text
    assert "has no embedded files" in run("qpdf", "--list-attachments", path).stdout
    assert b"root:x:0:0" not in Path(path).read_bytes()


def test_the_fetcher_serves_static_pdf_and_data_uris_only(tmp_path):
    fetcher = SafeFetcher()
    css = fetcher.fetch((STATIC_PDF_DIR / "certificate.css").as_uri())
    assert css.content_type == "text/css" and b"@page" in css.read()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    assert fetcher.fetch(qr_svg_data_uri("https://example.com/")).content_type == "image/svg+xml"

    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "ok.css").write_text("p {}")
    (tmp_path / "root" / "notes.txt").write_text("x")
    (tmp_path / "root" / "link.css").symlink_to("/etc/passwd")
    (tmp_path / "secret.css").write_text("secret")
    jailed = SafeFetcher(root=tmp_path / "root")
    assert jailed.fetch((tmp_path / "root" / "ok.css").as_uri()).read() == b"p {}"
    refused = [
        "http://127.0.0.1/x.png", "https://example.com/a.css", "ftp://127.0.0.1/x", "gopher://x/",
        "file:///etc/passwd", (tmp_path / "secret.css").as_uri(),
        (tmp_path / "root").as_uri() + "/../secret.css",
        (tmp_path / "root").as_uri() + "/%2E%2E/secret.css",
        (tmp_path / "root" / "link.css").as_uri(),  # a symlink out of the root
        (tmp_path / "root" / "notes.txt").as_uri(),  # not a type we serve
        (tmp_path / "root").as_uri(),  # the directory itself
        "file://localhost.example.com" + str(tmp_path / "root" / "ok.css"),
        (tmp_path / "root").as_uri() + "/ok.css%00.png",
        "relative.css", "javascript:alert(1)",
    ]
    for url in refused:
        with pytest.raises(RefusedURL):
            jailed.fetch(url)


# --- bounded work -----------------------------------------------------------------------------


def huge_html(rows: int = 200_000) -> str:
    return "<table>" + "".join(f"<tr><td>row {i}</td><td>cell</td></tr>" for i in range(rows)) + "</table>"


def test_a_huge_document_times_out_and_the_next_render_works(tmp_path):
    renderer.start_renderer()  # the time limit is for rendering, not for starting the renderer
    started = time.monotonic()
    with pytest.raises(RenderError, match="took longer than 2 s"):
        render_pdf(huge_html(), timeout_s=2)
    assert time.monotonic() - started < 5

    path = save(render_pdf(certificate_html(certificate_data(), branding=BRANDING)), tmp_path)
    assert "Jane Agent" in text_of(path)


def test_a_long_background_render_does_not_hold_up_a_certificate(tmp_path):
    """An evidence pack rendering in a job must not make a certificate download wait or fail."""
    renderer.start_renderer(renderer.BACKGROUND)
    renderer.start_renderer()
    outcome: list[str] = []

    def long_background_render() -> None:
        try:
            render_pdf(huge_html(), timeout_s=4, lane=renderer.BACKGROUND)
        except RenderError as exc:
            outcome.append(str(exc))

    background = threading.Thread(target=long_background_render)
    background.start()
    time.sleep(0.5)  # the background lane is busy now
    started = time.monotonic()
    path = save(render_pdf(certificate_html(certificate_data(), branding=BRANDING), timeout_s=2), tmp_path)
    assert time.monotonic() - started < 3 and background.is_alive()
    assert "Jane Agent" in text_of(path)
    background.join()
    assert outcome and "took longer than 4 s" in outcome[0]


def test_a_document_over_its_memory_budget_fails_cleanly(tmp_path):
    renderer.start_renderer()
    with pytest.raises(RenderError, match="more than 64 MB"):
        render_pdf(huge_html(), timeout_s=60, max_memory_mb=64)

    path = save(render_pdf("<p>Still working</p>"), tmp_path)
    assert "Still working" in text_of(path)


def test_a_memory_error_that_weasyprint_swallows_still_fails_the_render():
    """WeasyPrint renders on without an image or font it failed to load; out of memory, that
    would be a certificate without its QR code. The renderer watches WeasyPrint's log for it."""
    def collected(*args, exc=None):
        collector = renderer._LogCollector()
        collector.handle(logging.LogRecord("weasyprint", logging.ERROR, __file__, 1,
                                           "Failed to load image at %r: %s", args,
                                           (type(exc), exc, None) if exc else None))
        return collector

    image_error = ImageLoadingError()
    image_error.__cause__ = MemoryError()
    assert collected("qr.svg", image_error).out_of_memory
    assert collected("qr.svg", "", exc=image_error).out_of_memory
    assert collected("font.ttf", URLFetchingError("MemoryError: ")).out_of_memory
    refused = URLFetchingError("RefusedURL: PDF renderer refuses http URL 'http://x/MemoryError'")
    ok = collected("http://x/MemoryError", refused)
    assert not ok.out_of_memory
    assert ok.lines == [(logging.ERROR, f"Failed to load image at 'http://x/MemoryError': {refused}")]
