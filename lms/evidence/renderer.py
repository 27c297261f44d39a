"""The renderer process: HTML to PDF under a memory budget and a deadline.

security.md, "PDFs (WeasyPrint 70)", and architecture.md, "PDFs load nothing from outside":
`render_pdf` runs WeasyPrint in a separate, long-lived process, under a memory budget
(watched from the web worker, with RLIMIT_AS behind it) and a deadline. A hostile or huge
document costs a `RenderError` and a fresh renderer process, never a web worker. Its output
is PDF/A-3b, with attachments (e.g. the certificate's record as JSON) embedded. Every
resource the render asks for goes through `SafeFetcher` (lms/evidence/url_fetcher.py).

WeasyPrint is imported only inside the renderer process, so loading the app does not pay for
it. No database and no Flask here: callers pass HTML and receive bytes.
"""
from __future__ import annotations

import atexit
import importlib.util
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
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

log = logging.getLogger(__name__)

# Computed here, not imported from lms.config: the renderer process loads this file alone.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATIC_PDF_DIR = PROJECT_ROOT / "static" / "pdf"


class RenderError(RuntimeError):
    """A PDF could not be rendered within its time or memory budget, or at all."""


# --- the web worker's side --------------------------------------------------------------------------------


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
    import weasyprint  # here, not at the top: only the renderer process pays for loading it

    fetcher = _url_fetcher().SafeFetcher(STATIC_PDF_DIR)
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


@lru_cache(maxsize=1)
def _url_fetcher() -> ModuleType:
    """lms/evidence/url_fetcher.py, loaded by its path: this process has no `lms` package."""
    spec = importlib.util.spec_from_file_location("lms_pdf_url_fetcher", Path(__file__).with_name("url_fetcher.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _list_associated_files_once(_document: Any, pdf: Any) -> None:
    # WeasyPrint 70 adds each attachment to the catalog's /AF twice (once from the
    # EmbeddedFiles name tree, once as a file specification); PDF/A-3 wants one entry per file.
    if "AF" in pdf.catalog:
        pdf.catalog["AF"][:] = list(dict.fromkeys(pdf.catalog["AF"]))
