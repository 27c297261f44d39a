"""HTML to PDF for the evidence we issue: certificates now, reports later.

security.md, "PDFs (WeasyPrint 70)", and architecture.md, "PDFs load nothing from outside":

- `SafeFetcher` is the only way a render reaches a resource. It serves files under
  static/pdf/ (CSS, fonts, logo) and data: URIs, and refuses every other URL, so no render
  ever opens a connection or reads another file, whatever the HTML asks for.
- `render_pdf` runs WeasyPrint in a separate, long-lived process, under a memory budget
  (watched from the web worker, with RLIMIT_AS behind it) and a deadline. A hostile or huge
  document costs a `RenderError` and a fresh renderer process, never a web worker. Its
  output is PDF/A-3b, with attachments (e.g. the certificate's record as JSON) embedded.
- `certificate_html` fills templates/pdf/certificate.html (A4 landscape) from plain data,
  autoescaped: names are typed by users. `qr_svg_data_uri` draws the verification QR code
  as SVG, so it is embedded in the document rather than fetched.

No database and no Flask here: callers pass plain data and receive bytes.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from base64 import b64encode
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib import request
from urllib.parse import urlsplit

import jinja2
import segno
import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

# Computed here, not imported from lms.config: the renderer process loads this file alone.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATIC_PDF_DIR = PROJECT_ROOT / "static" / "pdf"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
DEFAULT_BRAND_COLOUR = "#0f5c73"
DEFAULT_LOGO = "logo.svg"


class RenderError(RuntimeError):
    """A PDF could not be rendered within its time or memory budget, or at all."""


class RefusedURL(ValueError):
    """Raised by `SafeFetcher` for any URL it does not serve."""


# --- fetching ---------------------------------------------------------------------------------


class SafeFetcher(URLFetcher):
    """WeasyPrint's only door to resources: files under `root` and data: URIs, nothing else.

    Why: the HTML we render carries user-authored text (names, course content). If WeasyPrint
    fetched what it names, an <img>, stylesheet, @import, @font-face, <object> or
    <link rel=attachment> could make our server connect to internal services (SSRF,
    loopback included), read local files into the PDF (file:///etc/passwd, our config), or
    follow a redirect to either. So http(s), ftp and every other scheme are refused before
    anything is opened, and file: URLs only if the real path (after "..", percent-decoding
    and symlinks) is a regular file inside `root` with an extension we serve.

    A refusal raises `RefusedURL`, an ordinary exception: WeasyPrint logs the resource as
    failed and renders on without it (a FatalURLFetchingError would abort the render, which
    would let any user-authored <img> break a certificate).
    """

    CONTENT_TYPES = {
        ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg", ".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff",
        ".woff2": "font/woff2",
    }

    def __init__(self, root: Path | str = STATIC_PDF_DIR) -> None:
        # No protocol allowed and no redirects for the inherited urllib machinery: `fetch`
        # below never calls it, and if anything ever did it would refuse as well.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.root = os.path.realpath(root)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._data(url)
        if scheme == "file":
            return self._file(url)
        raise RefusedURL(f"PDF renderer refuses {scheme or 'relative'} URL {url[:200]!r}")

    def _data(self, url: str) -> URLFetcherResponse:
        # urllib's data: parser only decodes the string; it never touches a network or file.
        with request.DataHandler().data_open(request.Request(url)) as response:
            body = response.read()
            content_type = response.headers.get("Content-Type", "text/plain")
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        # file://host/... would make urllib fall back to FTP on that host.
        if parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"PDF renderer refuses remote file URL {url[:200]!r}")
        path = request.url2pathname(parts.path)
        if "\x00" in path:
            raise RefusedURL("PDF renderer refuses a path with a NUL byte")
        real = os.path.realpath(path)
        inside = real != self.root and os.path.commonpath([real, self.root]) == self.root
        content_type = self.CONTENT_TYPES.get(os.path.splitext(real)[1].lower())
        if not inside or content_type is None or not os.path.isfile(real):
            raise RefusedURL(f"PDF renderer serves only its own assets, not {url[:200]!r}")
        with open(real, "rb") as f:
            body = f.read()
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


# --- rendering --------------------------------------------------------------------------------


@dataclass
class Attachment:
    """A file embedded in the PDF (PDF/A-3 associated file), e.g. the certificate as JSON.

    `relationship` is the PDF/A-3 AFRelationship: "Data" for a machine-readable copy of what
    the page shows, "Source" for what it was made from, "Supplement" or "Unspecified".
    """

    name: str
    data: bytes
    mime_type: str
    description: str
    relationship: str = "Data"


_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}\Z")
_RELATIONSHIPS = frozenset({"Source", "Data", "Alternative", "Supplement", "Unspecified"})
_STARTUP_TIMEOUT_S = 60.0  # importing WeasyPrint takes 1-2 s; a loaded machine may need more
# A fresh process now and then returns what caches and fragmentation kept from earlier renders.
_RENDERS_PER_PROCESS = 200
_WATCH_INTERVAL_S = 0.05
_MAX_FORWARDED_LOG_LINES = 20
# Render lanes: what people wait for, and what background jobs produce.
INTERACTIVE = "interactive"
BACKGROUND = "background"


def render_pdf(html: str, *, attachments: Sequence[Attachment] = (), timeout_s: float = 20,
               max_memory_mb: int = 512, pdfa: bool = True, lane: str = INTERACTIVE) -> bytes:
    """Render `html` to PDF (PDF/A-3b unless `pdfa` is False) with `attachments` embedded.

    Relative URLs resolve against static/pdf/; `SafeFetcher` refuses anything else. The render
    runs in the renderer process: `timeout_s` bounds the render itself (not the renderer's
    one-off start-up), `max_memory_mb` the memory it may allocate on top of the loaded
    renderer (about 300 MB of address space, mostly shared libraries). Exceeding either, or
    any failure inside WeasyPrint, raises `RenderError` and replaces the renderer process.
    Renders in one `lane` of a process run one at a time: a call waits up to `timeout_s` for a
    busy renderer (then raises `RenderError`) before its own `timeout_s` starts. Each lane has
    its own renderer process, so a long BACKGROUND render (an evidence pack in a job) never
    holds up the INTERACTIVE renders people wait for (a certificate download).
    """
    if timeout_s <= 0 or max_memory_mb <= 0:
        raise ValueError("timeout_s and max_memory_mb must be positive")
    job = {
        "pdfa": bool(pdfa),
        "timeout_s": float(timeout_s),
        "max_memory_mb": int(max_memory_mb),
        "attachments": [_attachment_meta(a) for a in attachments],
    }
    payloads = [html.encode("utf-8"), *(bytes(a.data) for a in attachments)]
    slot = _lanes[lane]
    if not slot.lock.acquire(timeout=timeout_s):
        raise RenderError(f"PDF renderer was busy for longer than {timeout_s:g} s")
    try:
        return slot.renderer().render(job, payloads)
    finally:
        slot.lock.release()


def start_renderer(lane: str = INTERACTIVE) -> None:
    """Start the lane's renderer process now (e.g. when a worker boots), not at the first PDF.

    Starting it costs about as much as importing WeasyPrint (1-2 s), which the first
    `render_pdf` otherwise pays on top of its render.
    """
    slot = _lanes[lane]
    with slot.lock:
        slot.renderer().wait_ready()


def renderer_pid(lane: str = INTERACTIVE) -> int | None:
    """The process id of the lane's renderer, if it runs (benchmarks read its peak memory)."""
    current = _lanes[lane].current
    return current.process.pid if current is not None else None


def _attachment_meta(attachment: Attachment) -> dict[str, str]:
    name = os.path.basename(attachment.name.replace("\\", "/")).strip()
    if not name:
        raise ValueError(f"attachment name {attachment.name!r} has no file name")
    if not _MIME_TYPE.match(attachment.mime_type):
        raise ValueError(f"attachment {name!r}: invalid MIME type {attachment.mime_type!r}")
    if attachment.relationship not in _RELATIONSHIPS:
        raise ValueError(f"attachment {name!r}: unknown relationship {attachment.relationship!r}")
    return {"name": name, "mime_type": attachment.mime_type,
            "description": attachment.description, "relationship": attachment.relationship}


class _Renderer:
    """One renderer process, serving one render at a time over a socket pair.

    It is long-lived because starting it (a fresh interpreter importing WeasyPrint) costs
    several times a certificate's render; it is replaced after any failure. A fresh
    interpreter, not a fork: a web worker has threads and open sockets that a fork would copy
    half-way. Not multiprocessing's "spawn" either: that re-imports the caller's __main__
    (breaking any script without a main guard) and the whole app package; this child loads
    only this file.

    Messages are byte strings: JSON headers and raw payloads, never pickles from the child,
    so a renderer subverted by a document still cannot run code in the web worker.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-c", _BOOTSTRAP, __file__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        self.conn = Connection(ours.detach())
        self.owner_pid = os.getpid()
        self.ready = False
        self.renders = 0

    def wait_ready(self) -> None:
        if self.ready:
            return
        if not self.conn.poll(_STARTUP_TIMEOUT_S):
            raise self._fail(f"PDF renderer did not start within {_STARTUP_TIMEOUT_S:g} s")
        try:
            hello = json.loads(self.conn.recv_bytes(4096))
        except (EOFError, OSError, ValueError) as exc:
            raise self._fail(f"PDF renderer failed to start ({exc!r})") from None
        if hello.get("status") != "ready":
            raise self._fail(f"PDF renderer failed to start: {hello}")
        self.ready = True

    def render(self, job: dict[str, Any], payloads: list[bytes]) -> bytes:
        self.wait_ready()
        timeout_s, max_mb = job["timeout_s"], job["max_memory_mb"]
        # Measured while the renderer idles: the budget is what the render adds on top.
        memory_limit = self._address_space() + (max_mb << 20)
        try:
            self.conn.send_bytes(json.dumps(job).encode())
            for payload in payloads:
                self.conn.send_bytes(payload)
        except OSError as exc:
            raise self._fail(f"PDF renderer stopped unexpectedly ({exc!r})") from None
        deadline = time.monotonic() + timeout_s
        # Watch the renderer's size from here and stop it at the budget. Its own RLIMIT_AS
        # sits a little higher and only catches sudden spikes: a process that runs into it
        # thrashes in MemoryErrors (some of which WeasyPrint swallows) for many seconds.
        while not self.conn.poll(min(_WATCH_INTERVAL_S, max(deadline - time.monotonic(), 0))):
            if time.monotonic() >= deadline:
                raise self._fail(f"PDF rendering took longer than {timeout_s:g} s")
            if self._address_space() > memory_limit:
                raise self._fail(f"PDF rendering needed more than {max_mb} MB of memory")
        try:
            reply = json.loads(self.conn.recv_bytes(1 << 20))
            status = reply.get("status")
            if status == "ok":
                # The PDF follows its header at once; the grace covers copying a large file.
                if not self.conn.poll(max(deadline - time.monotonic(), 0) + 5):
                    raise self._fail(f"PDF rendering took longer than {timeout_s:g} s")
                pdf = self.conn.recv_bytes((max_mb + 64) << 20)
        except (EOFError, OSError, ValueError):
            try:
                code = self.process.wait(1)
            except subprocess.TimeoutExpired:
                code = None
            raise self._fail(
                f"PDF renderer stopped unexpectedly (exit code {code}); most likely the "
                f"document needed more than {max_mb} MB of memory") from None
        _forward_log(reply.get("log", []))
        if status == "ok":
            self.renders += 1
            if self.renders >= _RENDERS_PER_PROCESS:
                self._replace()
            return pdf
        if status == "memory":
            raise self._fail(f"PDF rendering needed more than {max_mb} MB of memory")
        raise self._fail(f"PDF rendering failed: {reply.get('message', 'unknown error')}")

    def _address_space(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm") as f:
                return int(f.read().split()[0]) * resource.getpagesize()
        except (OSError, ValueError, IndexError):
            return 0  # it has exited: the next poll sees the closed socket

    def _fail(self, message: str) -> RenderError:
        """Kill this renderer, start its replacement (it warms up meanwhile), return the error."""
        self._replace(kill=True)
        return RenderError(message)

    def _replace(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        for slot in _lanes.values():
            if slot.current is self:
                slot.current = _Renderer()

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        self.conn.close()  # an idle renderer exits when its socket closes
        try:
            self.process.wait(1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# Loads this file as a module of its own (no `lms` package, no app) and serves on the socket.
_BOOTSTRAP = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('lms_pdf_renderer', sys.argv[1])\n"
    "module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module._serve(int(sys.argv[2]))\n"
)

class _Lane:
    """One renderer process and the lock that lets one render at a time use it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: _Renderer | None = None

    def renderer(self) -> _Renderer:
        if self.current is not None and self.current.process.poll() is not None:
            # It died while idle (the OOM killer, an operator): no job was lost, start another.
            self.current.stop()
            self.current = None
        if self.current is None:
            self.current = _Renderer()
        return self.current


_lanes: dict[str, _Lane] = {INTERACTIVE: _Lane(), BACKGROUND: _Lane()}
_inherited: list[_Renderer] = []


def _forget_renderer_after_fork() -> None:
    """A forked web worker (e.g. gunicorn --preload) must not share its parent's renderers."""
    for name, slot in _lanes.items():
        if slot.current is not None:
            slot.current.conn.close()
            # Kept, not dropped: collecting its Popen would warn about a process still running.
            _inherited.append(slot.current)
        _lanes[name] = _Lane()


def _stop_renderer_at_exit() -> None:
    for slot in _lanes.values():
        if slot.current is not None and slot.current.owner_pid == os.getpid():
            slot.current.stop()


os.register_at_fork(after_in_child=_forget_renderer_after_fork)
atexit.register(_stop_renderer_at_exit)


def _forward_log(lines: list[list[Any]]) -> None:
    """Repeat the renderer's warnings (refused URLs, unsupported CSS) in this process's log."""
    for level, message in lines[:_MAX_FORWARDED_LOG_LINES]:
        log.log(min(int(level), logging.WARNING), "WeasyPrint: %s", message)
    if len(lines) > _MAX_FORWARDED_LOG_LINES:
        log.warning("WeasyPrint: %d more messages", len(lines) - _MAX_FORWARDED_LOG_LINES)


# --- inside the renderer process --------------------------------------------------------------


class _LogCollector(logging.Handler):
    """Keeps WeasyPrint's warnings for the web worker's log, and notices swallowed MemoryErrors.

    WeasyPrint catches exceptions around fonts, images and SVG and renders on without them;
    out of memory there would give a "successful" certificate missing its QR code or fonts.
    Every such place logs the exception (at least at debug level), so we look there.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[int, str]] = []
        self.out_of_memory = False

    def emit(self, record: logging.LogRecord) -> None:
        causes = [record.exc_info[1] if record.exc_info else None,
                  *(record.args if isinstance(record.args, tuple) else ())]
        if any(_caused_by_memory_error(c) for c in causes):
            self.out_of_memory = True
        if record.levelno < logging.WARNING:
            return
        if len(self.lines) <= _MAX_FORWARDED_LOG_LINES:
            self.lines.append((record.levelno, record.getMessage()[:500]))
        else:
            self.lines.append((record.levelno, ""))  # only counted


def _caused_by_memory_error(value: Any) -> bool:
    seen = 0
    while isinstance(value, BaseException) and seen < 10:
        # WeasyPrint's fetch() re-raises failures as URLFetchingError("MemoryError: ...").
        if isinstance(value, MemoryError) or str(value).startswith("MemoryError"):
            return True
        value, seen = value.__cause__ or value.__context__, seen + 1
    return False


def _serve(fd: int) -> None:
    """The renderer's loop: read a job, render it under limits, reply; exit on any failure."""
    conn = Connection(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server; we exit with it
    # Out of memory in C code (GLib) aborts, and the CPU backstop kills with SIGXCPU: neither
    # should leave a core file of hundreds of MB behind.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    collector = _LogCollector()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addHandler(collector)
    weasyprint_log.setLevel(logging.DEBUG)
    weasyprint_log.propagate = False
    # One throwaway render initialises Fontconfig, Pango and the PDF writer, which would
    # otherwise make the first real render about half as slow again.
    _render_here("<p>Ready</p>", [], pdfa=True)
    try:
        conn.send_bytes(b'{"status": "ready"}')
        while _serve_one(conn, collector):
            pass
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the web worker closed the socket or exited: so do we


def _serve_one(conn: Connection, collector: _LogCollector) -> bool:
    """Render one job; True if this process may take another."""
    job = json.loads(conn.recv_bytes())
    html = conn.recv_bytes().decode("utf-8")
    attachments = [Attachment(data=conn.recv_bytes(), **meta) for meta in job["attachments"]]
    collector.lines, collector.out_of_memory = [], False
    _limit_resources(job["max_memory_mb"], job["timeout_s"])
    pdf = None
    try:
        pdf = _render_here(html, attachments, pdfa=job["pdfa"])
        reply: dict[str, Any] = {"status": "ok"}
    except MemoryError:
        reply = {"status": "memory"}
    except Exception as exc:  # any WeasyPrint failure is reported, then we start afresh
        reply = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}
    if collector.out_of_memory:
        pdf, reply = None, {"status": "memory"}
    reply["log"] = collector.lines
    conn.send_bytes(json.dumps(reply).encode())
    if pdf is None:
        return False
    conn.send_bytes(pdf)
    return True


def _limit_resources(max_memory_mb: int, timeout_s: float) -> None:
    # Address space grows with the document; the baseline (interpreter, WeasyPrint, Pango,
    # fonts) is mostly shared libraries, so the budget is counted on top of it. The web worker
    # stops us at the budget itself; this limit, a quarter higher, stops what grows too fast
    # for it to see.
    with open("/proc/self/statm") as f:
        baseline = int(f.read().split()[0]) * resource.getpagesize()
    _set_soft_limit(resource.RLIMIT_AS, baseline + (max_memory_mb << 20) * 5 // 4)
    # A backstop in case the web worker died mid-render and nobody is left to kill us.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _set_soft_limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime + timeout_s) + 10)


def _set_soft_limit(which: int, value: int) -> None:
    hard = resource.getrlimit(which)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard))


def _render_here(html: str, attachments: list[Attachment], *, pdfa: bool) -> bytes:
    fetcher = SafeFetcher()
    document = weasyprint.HTML(string=html, base_url=STATIC_PDF_DIR.as_uri() + "/",
                               url_fetcher=fetcher)
    files = [
        # A data: URI carries the MIME type to the PDF's /EmbeddedFile /Subtype, which PDF/A-3
        # requires; WeasyPrint would otherwise guess it from the file name.
        weasyprint.Attachment(
            url=f"data:{a.mime_type};base64,{b64encode(a.data).decode('ascii')}",
            url_fetcher=fetcher, name=a.name, description=a.description,
            relationship=a.relationship)
        for a in attachments
    ]
    return document.write_pdf(attachments=files, pdf_variant="pdf/a-3b" if pdfa else None,
                              finisher=_list_associated_files_once)


def _list_associated_files_once(_document: Any, pdf: Any) -> None:
    # WeasyPrint 70 adds each attachment to the catalog's /AF twice (once from the
    # EmbeddedFiles name tree, once as a file specification); PDF/A-3 wants one entry per file.
    if "AF" in pdf.catalog:
        pdf.catalog["AF"][:] = list(dict.fromkeys(pdf.catalog["AF"]))


# --- certificates -----------------------------------------------------------------------------


def qr_svg_data_uri(url: str) -> str:
    """A QR code for `url` as an SVG data: URI, for an <img> in HTML that becomes a PDF.

    Black on white with the standard quiet zone, medium error correction: it must scan from
    a printed page and from a phone photographing a screen.
    """
    qr = segno.make(url, error="m", micro=False)
    return qr.svg_data_uri(scale=1, border=4, dark="#000", light="#fff")


_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}\Z")
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")


def certificate_html(data: Mapping[str, Any], *, branding: Mapping[str, Any]) -> str:
    """The certificate of completion as HTML for `render_pdf` (A4 landscape).

    `data`: agent_name, organisation, programme, courses [{title, version}], quizzes
    [{title, percent, version}], issued_at and valid_until (dates or ISO strings; valid_until
    may be None), verification_code, verify_url. `branding`: company_name, primary_colour
    (hex; anything else falls back to the default), signatory_name, signatory_title, and
    optionally logo, a file name in static/pdf/. Every value is escaped by the template.
    """
    verify_url = str(data["verify_url"])
    context = {
        "asset_base": STATIC_PDF_DIR.as_uri() + "/",
        "agent_name": str(data["agent_name"]),
        "organisation": str(data.get("organisation") or ""),
        "programme": str(data["programme"]),
        "courses": [{"title": str(c["title"]), "version": _short_version(c["version"])}
                    for c in data.get("courses") or ()],
        "quizzes": [{"title": str(q["title"]), "version": _short_version(q["version"]),
                     "percent": _percent(q["percent"])} for q in data.get("quizzes") or ()],
        "issued_at": _long_date(data["issued_at"]),
        "valid_until": _long_date(data["valid_until"]) if data.get("valid_until") else None,
        "verification_code": str(data["verification_code"]),
        "verify_url": verify_url,
        # Only a web address becomes a link; anything else is printed as text.
        "verify_link": verify_url if urlsplit(verify_url).scheme in ("http", "https") else None,
        "qr": qr_svg_data_uri(verify_url),
        "brand": {
            **document_brand(branding.get("company_name"), branding.get("primary_colour"), branding.get("logo")),
            "signatory_name": str(branding.get("signatory_name") or ""),
            "signatory_title": str(branding.get("signatory_title") or ""),
        },
    }
    return render_document("pdf/certificate.html", context)


def document_brand(company_name: Any, colour: Any, logo: Any) -> dict[str, str]:
    """The brand as every document prints it: the company, a valid colour (else the default),
    its tint for table stripes, and a logo that is a file in static/pdf/ (else the default)."""
    colour = str(colour or "")
    if not _HEX_COLOUR.match(colour):
        colour = DEFAULT_BRAND_COLOUR
    return {"company_name": str(company_name or ""), "colour": colour, "tint": _tint(colour), "logo": _logo(logo)}


def render_document(template: str, context: Mapping[str, Any]) -> str:
    """A template of templates/pdf/ rendered to HTML for `render_pdf`, every value escaped."""
    return _jinja_env().get_template(template).render(context)


@lru_cache(maxsize=1)
def _jinja_env() -> jinja2.Environment:
    # Our own environment, not Flask's: no request globals, usable from jobs and the CLI.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def _short_version(version: Any) -> str:
    """Content versions are hashes; 12 hex digits identify one and fit the table."""
    text = str(version)
    return text[:12] if re.fullmatch(r"[0-9a-fA-F]{13,}", text) else text


def _percent(value: Any) -> str:
    number = float(value)
    return f"{number:.0f} %" if number == int(number) else f"{number:.1f} %"


def _long_date(value: date | datetime | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])  # the ISO form the JSON record carries
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day} {value:%B %Y}"


def _tint(colour: str) -> str:
    """The brand colour at 8 % on white, for table stripes (WeasyPrint has no color-mix)."""
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = (int(digits[i:i + 2], 16) for i in (0, 2, 4))
    return "#" + "".join(f"{round(255 - (255 - c) * 0.08):02x}" for c in channels)


def _logo(name: Any) -> str:
    if not name:
        return DEFAULT_LOGO
    name = str(name)
    path = STATIC_PDF_DIR / name
    if (_ASSET_NAME.match(name) and name.lower().endswith(_LOGO_SUFFIXES) and path.is_file()
            and os.path.realpath(path).startswith(os.path.realpath(STATIC_PDF_DIR) + os.sep)):
        return name
    log.warning("Certificate logo %r is not a file in static/pdf/; using the default", name)
    return DEFAULT_LOGO
