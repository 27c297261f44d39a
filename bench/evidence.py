"""Benchmark of evidence PDFs: a certificate's render, a stored download, a 1,000-agent pack.

In one run it measures:

1. render: the app's first certificate render (certificate_html + render_pdf, PDF/A-3b with
   its JSON attached, in the renderer process started beforehand with renderer.start_renderer(),
   as a web worker would) against a bare WeasyPrint `HTML(string=html).write_pdf()` of the
   same HTML in the same process (after one throwaway render, as the renderer does when it
   starts), then a few more of each alternately; in several fresh processes, since a first
   render happens once per process. Signing (PAdES) is timed on its own.
2. download: for SQLite and PostgreSQL, `GET /awards/<id>/certificate.pdf` of a stored
   certificate by its signed-in holder through the LMS served by gunicorn, against a bare
   Flask endpoint (`baseline_app` below) returning the same bytes, in alternating slices.
3. pack: `build_pack` for an organisation of about 1,000 active agents with 18 months of
   history (`lms demo --agents 1260`, then every bulk agent moved into one partner), in a
   child process: wall time, the child's peak RSS and the renderer's.

Run from anywhere: `python bench/evidence.py` (see bench/README.md).
Everything listens on 127.0.0.1 and is torn down at the end, on error too.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response

if not __package__:  # run as a script: make `bench` (and `lms`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, ROOT, BenchError, Client, Gunicorn, Row, app_env, exit_status, flask, format_table, measure_interleaved,
    migrate_and_load_content, on_each_database, ratio_cell, run_command, sign_in,
)

TARGET_RENDER_RATIO = 1.3
TARGET_DOWNLOAD_RATIO = 0.5  # a stored download against the bare endpoint's throughput (issue #13)
HTTP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 900.0
SLICES = 4
PACK_ORGANISATION = "Lisboa Contact Services"


@dataclass(frozen=True)
class Settings:
    """What one run does; every field is a command-line option."""

    renders: int
    trials: int
    agents: int
    clients: int
    duration: float
    warmup: float
    workers: int
    databases: tuple[str, ...]
    render: bool = True  # part 1; --no-render skips it
    pack: bool = True  # part 3; --no-pack skips it
    floor: bool = False  # --floor: also bench/stack_floor_app.py's stored download


# ---- the bare endpoint ----------------------------------------------------------------------

baseline_app = Flask(__name__)


@baseline_app.get("/")
def ready() -> tuple[str, int]:
    """Readiness probe."""
    return "ok", 200


@baseline_app.get("/certificate.pdf")
def baseline_certificate() -> Response:
    """The same bytes as the LMS's stored certificate, with the same headers, and nothing else."""
    data = Path(os.environ["BENCH_PDF_FILE"]).read_bytes()
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="certificate.pdf"'})


# ---- 1. render -----------------------------------------------------------------------------

def certificate_fixture() -> tuple[dict, dict, list]:
    """A realistic certificate's data, branding and JSON attachment (what certificates.py passes)."""
    from datetime import date

    from lms.evidence import documents, renderer

    code = "K7QX3M9PTR2W8HJD5VNCYB4F"
    data = {
        "agent_name": "Maria da Conceição Ferreira", "organisation": "Lisboa Contact Services",
        "programme": "GDPR certification for contact-centre agents",
        "courses": [{"title": "Lawful basis and consent on calls", "version": "3f9a1c0b7d2e4f5a6b7c8d9e0f1a2b3c"},
                    {"title": "Identity checks before disclosure", "version": "a1b2c3d4e5f6a7b8c9d0"}],
        "quizzes": [{"title": "GDPR essentials for contact centres", "percent": 92,
                     "version": "77aa88bb99cc00dd11ee22ff33aa44bb"}],
        "issued_at": date(2026, 3, 12), "valid_until": date(2027, 3, 12), "verification_code": code,
        "verify_url": f"https://academy.example.com/verify/{code}",
    }
    branding = {"company_name": "Northwind Utilities", "primary_colour": "#0f5c73",
                "signatory_name": "Aoife Byrne", "signatory_title": "Data Protection Officer"}
    attachment = renderer.Attachment(name="certificate.json", data=json.dumps(data, default=str, indent=2).encode(),
                                mime_type="application/json", description="The certificate's data")
    return data, branding, [attachment]


def render_trial() -> None:
    """One fresh process: start the renderer, then time app and bare renders alternately; print JSON.

    BENCH_RENDERS renders of each; BENCH_APP_FIRST says which goes first (trials alternate it,
    so that neither always pays for whatever the other warmed up). BENCH_WORKDIR holds the key.
    """
    import weasyprint

    from lms.evidence import documents, renderer, signing

    renders, app_first = int(os.environ["BENCH_RENDERS"]), os.environ["BENCH_APP_FIRST"] == "1"
    workdir = Path(os.environ["BENCH_WORKDIR"])
    started = time.perf_counter()
    renderer.start_renderer()  # as a web worker does when it boots
    startup = time.perf_counter() - started
    data, branding, attachments = certificate_fixture()
    html = documents.certificate_html(data, branding=branding)
    weasyprint.HTML(string="<p>Ready</p>").write_pdf()  # the renderer warms up the same way

    def app_render() -> bytes:
        return renderer.render_pdf(documents.certificate_html(data, branding=branding), attachments=attachments)

    def bare_render() -> bytes:
        return weasyprint.HTML(string=html).write_pdf()

    def timed(function: Callable[[], bytes]) -> tuple[float, bytes]:
        begun = time.perf_counter()
        result = function()
        return time.perf_counter() - begun, result

    signer = signing.load_signer(workdir / "key.pem", workdir / "cert.pem", None)
    times: dict[str, list[float]] = {"app": [], "bare": [], "sign": []}
    document = b""
    for _ in range(renders):  # alternating, so that other load on the machine hits both alike
        for kind in (("app", "bare") if app_first else ("bare", "app")):
            seconds, result = timed(app_render if kind == "app" else bare_render)
            times[kind].append(seconds)
            document = result if kind == "app" else document
        times["sign"].append(timed(lambda: signing.sign_pdf(document, signer))[0])
    print(json.dumps({**times, "startup": startup, "size": len(document)}))


def bench_render(renders: int, trials: int, workdir: Path) -> list[str]:
    """Time the app's certificate render against bare WeasyPrint in `trials` fresh processes.

    A first render happens once per process, so each trial is a new one; the report gives the
    median over the trials of the first renders' ratio, and of the later renders.
    """
    from lms.evidence import signing

    signing.ensure_dev_key(workdir / "key.pem", workdir / "cert.pem")
    env = {**os.environ, "BENCH_RENDERS": str(renders), "BENCH_WORKDIR": str(workdir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    results = [child("render_trial", {**env, "BENCH_APP_FIRST": str(n % 2)}, COMMAND_TIMEOUT) for n in range(trials)]
    first_ratios = [r["app"][0] / r["bare"][0] for r in results]
    later = {kind: [t for r in results for t in r[kind][1:]] or [r[kind][0] for r in results]
             for kind in ("app", "bare", "sign")}
    first = {kind: statistics.median(r[kind][0] for r in results) for kind in ("app", "bare", "sign")}
    ms = lambda seconds: f"{1000 * seconds:.0f}"  # noqa: E731
    lines = [("measure", "first ms", "later ms", "renders"),
             ("app render (certificate_html + render_pdf, PDF/A-3b + JSON)", ms(first["app"]),
              ms(statistics.median(later["app"])), str(renders * trials)),
             ("bare WeasyPrint HTML(string).write_pdf()", ms(first["bare"]), ms(statistics.median(later["bare"])),
              str(renders * trials)),
             ("signing (PAdES, sign_pdf)", ms(first["sign"]), ms(statistics.median(later["sign"])),
              str(renders * trials))]
    first_ratio = statistics.median(first_ratios)
    verdict = "meets" if first_ratio <= TARGET_RENDER_RATIO else "MISSES"
    return [format_table(lines, left=1), "(first: median over the trials; later: median of the other renders)", "",
            f"render ratio app/bare: first {first_ratio:.2f} (trials: {', '.join(f'{r:.2f}' for r in first_ratios)}), "
            f"later {statistics.median(later['app']) / statistics.median(later['bare']):.2f}: "
            f"{verdict} the {TARGET_RENDER_RATIO} target on the first render",
            f"renderer start-up, paid once per worker and not per render: "
            f"{ms(statistics.median(r['startup'] for r in results))} ms; "
            f"certificate {results[0]['size'] / 1024:.0f} KiB before signing"]


# ---- 2. download and 3. pack, per database ------------------------------------------------------

def find_holder() -> None:
    """Print (JSON) a bulk agent holding a current award, and its id. Runs in a child process."""
    from sqlalchemy import select

    from lms import create_app
    from lms.accounts.models import User
    from lms.certification.models import Award, Enrolment
    from lms.extensions import db

    with create_app().app_context():
        row = db.session.execute(
            select(User.email, Award.id).join(Award, Award.user_id == User.id)
            .join(Enrolment, Enrolment.current_award_id == Award.id)
            .where(User.active.is_(True), Award.revoked_at.is_(None), User.email.not_like("%@northwind.example"))
            .order_by(Award.id).limit(1)).one()
        print(json.dumps({"email": row.email, "award_id": row.id}))


def measure_pack() -> None:
    """Move every bulk agent into one partner, then time build_pack for it; print JSON.

    Runs in a child process, so that its peak memory is the pack's alone. The renderer is
    started first (a job worker would have one running); its own peak is read before it ends.
    """
    import resource

    from sqlalchemy import func, select, update

    from lms import create_app
    from lms.accounts.models import Organisation, Role, User
    from lms.evidence import documents, renderer, signing
    from lms.evidence.pack import build_pack
    from lms.extensions import db

    steps: dict[str, float] = {}

    def timed(name: str, function: Callable) -> Callable:
        def run(*args, **kwargs):
            begun = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                steps[name] = time.perf_counter() - begun
        return run

    # build_pack calls them through their modules, so these wrappers time its render and signing.
    renderer.render_pdf = timed("render", renderer.render_pdf)
    signing.sign_pdf = timed("sign", signing.sign_pdf)

    with create_app().app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == PACK_ORGANISATION))
        admin = db.session.scalar(select(User).where(User.email == "admin@northwind.example"))
        db.session.execute(update(User).where(User.role == Role.AGENT, User.email.not_like("%@northwind.example"))
                           .values(organisation_id=organisation.id))
        db.session.commit()
        agents = db.session.scalar(select(func.count(User.id)).where(User.organisation_id == organisation.id,
                                                                     User.role == Role.AGENT,
                                                                     User.active.is_(True)))
        renderer.start_renderer(renderer.BACKGROUND)  # the lane build_pack renders in
        renderer_pid = renderer.renderer_pid(renderer.BACKGROUND)
        calls = []
        started = time.perf_counter()
        files = build_pack(organisation.id, generated_by_id=admin.id,
                           progress=lambda done, total: calls.append((done, total)))
        seconds = time.perf_counter() - started
        db.session.rollback()
        with open(f"/proc/{renderer_pid}/status") as status:
            renderer_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        info = subprocess.run(["pdfinfo", "-"], input=files.pdf, capture_output=True, check=True).stdout
        pages = int(next(line.split()[1] for line in info.decode().splitlines() if line.startswith("Pages:")))
        print(json.dumps({
            "agents": agents, "roster_rows": len(json.loads(files.json)["roster"]), "seconds": seconds,
            "data_seconds": seconds - steps["render"] - steps["sign"], "render_seconds": steps["render"],
            "sign_seconds": steps["sign"], "pages": pages, "pdf_kib": len(files.pdf) / 1024,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "renderer_peak_rss_mib": renderer_kib / 1024, "progress_calls": len(calls),
        }))


@dataclass
class DatabaseResult:
    download: Row
    floor: Row | None  # bench/stack_floor_app.py's download, with --floor
    pack: dict | None  # None with --no-pack
    demo_seconds: float


def child(function: str, env: dict[str, str], timeout: float) -> dict:
    """Run one of this module's functions in a child process with the bench's environment; its JSON."""
    output, _ = run_command([sys.executable, "-c", f"from bench.evidence import {function}; {function}()"], env,
                            timeout=timeout)
    return json.loads(output.strip().splitlines()[-1])


def pdf_getter(client: Client, path: str, size: int) -> Callable[[int], None]:
    """One client's request: GET `path`, which must answer 200 with a PDF of `size` bytes."""
    def get(_: int) -> None:
        response = client.get(path)
        if response.status != 200 or len(response.body) != size or not response.body.startswith(b"%PDF-"):
            raise BenchError(f"GET {path}: HTTP {response.status} {response.location} ({len(response.body)} bytes)")
    return get


def bench_database(label: str, database_url: str, settings: Settings, workdir: Path) -> DatabaseResult:
    """Prepare the database, measure the stored download against the bare endpoint, then the pack."""
    started = time.monotonic()

    def step(message: str) -> None:
        print(f"[{label} {time.monotonic() - started:5.1f} s] {message}", flush=True)

    env = app_env(database_url)
    env.update(SIGNING_KEY_PATH=str(workdir / f"{label}-signing" / "key.pem"),
               SIGNING_CERT_PATH=str(workdir / f"{label}-signing" / "cert.pem"))
    from devtools.demo import DEMO_PASSWORD

    step(f"migrating, loading content, generating {settings.agents} demo agents")
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "evidence", "dev-key"), env, timeout=COMMAND_TIMEOUT)
    _, demo_seconds = run_command(flask("lms", "demo", "--agents", str(settings.agents)), env,
                                  timeout=COMMAND_TIMEOUT)
    holder = child("find_holder", env, COMMAND_TIMEOUT)
    path = f"/awards/{holder['award_id']}/certificate.pdf"
    with ExitStack() as stack:
        app = stack.enter_context(Gunicorn("wsgi:app", env, workdir / f"{label}-app.log", "/healthz",
                                           workers=settings.workers, ready_within=60))
        try:
            step(f"signing {settings.clients} clients in as {holder['email']}; first download renders and stores")
            clients = []
            for _ in range(settings.clients):
                client = Client(app.port, HTTP_TIMEOUT)
                sign_in(client, holder["email"], DEMO_PASSWORD)
                clients.append(client)
            first = clients[0].get(path)
            if first.status != 200 or not first.body.startswith(b"%PDF-"):
                raise BenchError(f"first download: HTTP {first.status} {first.text()[:200]!r}")
            pdf_file = workdir / f"{label}-certificate.pdf"
            pdf_file.write_bytes(first.body)
            baseline = stack.enter_context(Gunicorn("bench.evidence:baseline_app",
                                                    {**env, "BENCH_PDF_FILE": str(pdf_file)},
                                                    workdir / f"{label}-baseline.log", "/", workers=settings.workers))
            step(f"stored download and the bare endpoint, {settings.clients} clients, "
                 f"{settings.duration:.0f} s each, interleaved")
            size = len(first.body)
            download, bare = measure_interleaved(
                [pdf_getter(c, path, size) for c in clients],
                [pdf_getter(Client(baseline.port, HTTP_TIMEOUT), "/certificate.pdf", size)] * settings.clients,
                duration=settings.duration, warmup=settings.warmup, slices=SLICES)
            floor = measure_floor(stack, env, pdf_file, size, baseline.port, settings, label, workdir, step) \
                if settings.floor else None
        except (BenchError, OSError) as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
    pack = None
    if settings.pack:
        step("evidence pack of one organisation with every bulk agent (child process)")
        pack = child("measure_pack", env, COMMAND_TIMEOUT)
    return DatabaseResult(Row(label, "stored certificate download", download, bare), floor, pack, demo_seconds)


def measure_floor(stack: ExitStack, env: dict[str, str], pdf_file: Path, size: int, baseline_port: int,
                  settings: Settings, label: str, workdir: Path, step: Callable[[str], None]) -> Row:
    """Serve bench/stack_floor_app.py as the LMS is served, each client signed in with the same document
    stored for them, and time its download against the bare endpoint, as the LMS's is timed."""
    found = json.loads(run_command([sys.executable, "-m", "bench.stack_floor_app", "--people", str(settings.clients),
                                    "--user-agent", "callsafe-bench", "--document", str(pdf_file)], env,
                                   timeout=COMMAND_TIMEOUT)[0])
    floor = stack.enter_context(Gunicorn("bench.stack_floor_app:create_app()", env, workdir / f"{label}-floor.log", "/",
                                         workers=settings.workers, ready_within=60))
    clients = []
    for cookie in found["cookies"]:
        client = Client(floor.port, HTTP_TIMEOUT)
        name, _, value = cookie.partition("=")
        client.cookies[name] = value
        clients.append(client)
    step(f"{FLOOR_MEASURE} of bench/stack_floor_app.py and the bare endpoint, {settings.clients} clients, "
         f"{settings.duration:.0f} s each, interleaved")
    download, bare = measure_interleaved(
        [pdf_getter(c, "/certificate.pdf", size) for c in clients],
        [pdf_getter(Client(baseline_port, HTTP_TIMEOUT), "/certificate.pdf", size)] * settings.clients,
        duration=settings.duration, warmup=settings.warmup, slices=SLICES)
    return Row(label, FLOOR_MEASURE, download, bare)


FLOOR_MEASURE = "stack floor: stored download"


# ---- report -----------------------------------------------------------------------------

def download_table(rows: Sequence[Row]) -> str:
    """The download measures as an aligned text table."""
    lines: list[tuple[str, ...]] = [("database", "measure", "app rps", "app p50 ms", "app p95 ms", "bare rps",
                                     "bare p50 ms", "bare p95 ms", "throughput ratio", "p95 ratio", "errors")]
    for row in rows:
        app, bare = row.app, row.baseline
        lines.append((row.database, row.measure, f"{app.rps:.1f}", f"{app.percentile_ms(50):.1f}",
                      f"{app.percentile_ms(95):.1f}", f"{bare.rps:.1f}", f"{bare.percentile_ms(50):.1f}",
                      f"{bare.percentile_ms(95):.1f}", ratio_cell(row.rps_ratio, ".2f"),
                      ratio_cell(row.p95_ratio, ".1f"), str(app.errors + bare.errors)))
    return format_table(lines)


def pack_table(results: dict[str, DatabaseResult]) -> str:
    """The pack measures as an aligned text table."""
    lines: list[tuple[str, ...]] = [("database", "agents", "roster rows", "pages", "total s", "queries+data s",
                                     "render s", "sign s", "peak RSS MiB", "renderer peak MiB", "PDF KiB")]
    for label, result in results.items():
        p = result.pack
        if p is None:
            continue
        lines.append((label, str(p["agents"]), str(p["roster_rows"]), str(p["pages"]), f"{p['seconds']:.1f}",
                      f"{p['data_seconds']:.2f}", f"{p['render_seconds']:.1f}", f"{p['sign_seconds']:.2f}",
                      f"{p['peak_rss_mib']:.0f}", f"{p['renderer_peak_rss_mib']:.0f}", f"{p['pdf_kib']:.0f}"))
    return format_table(lines, left=1)


# ---- entry point ------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=5,
                        help="certificate renders of each kind per trial (default 5)")
    parser.add_argument("--trials", type=int, default=5,
                        help="fresh processes for the certificate renders, each with its first render (default 5)")
    parser.add_argument("--agents", type=int, default=1260,
                        help="demo agents; the active ones are all in the pack (default 1260: about 1,000 active)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent download clients (default 4)")
    parser.add_argument("--duration", type=float, default=8.0,
                        help="seconds of timed downloads, per server (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--database", choices=DATABASES, action="append", dest="databases",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--no-render", dest="render", action="store_false",
                        help="skip part 1, the certificate renders")
    parser.add_argument("--floor", action="store_true",
                        help="also time the download of bench/stack_floor_app.py, the mandated stack's least")
    parser.add_argument("--no-pack", dest="pack", action="store_false",
                        help="skip part 3, the evidence pack (the download is measured either way)")
    args = parser.parse_args(argv)
    if min(args.renders, args.trials, args.agents, args.clients) < 1:
        parser.error("--renders, --trials, --agents and --clients must be at least 1")
    return Settings(renders=args.renders, trials=args.trials, agents=args.agents, clients=args.clients,
                    duration=args.duration, warmup=args.warmup, workers=args.workers,
                    databases=tuple(args.databases or DATABASES), render=args.render, pack=args.pack,
                    floor=args.floor)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if every request succeeded, 1 if some failed, 2 if the set-up failed."""
    settings = parse_args(argv)
    started = time.monotonic()
    render_report: list[str] = []
    if settings.render:
        print(f"certificate render: {settings.trials} fresh processes, {settings.renders} renders of each kind in each",
              flush=True)
        with tempfile.TemporaryDirectory(prefix="callsafe-bench-render-") as tmp:
            render_report = bench_render(settings.renders, settings.trials, Path(tmp))
    results = on_each_database(settings.databases, "callsafe-bench-evidence-", "callsafe_bench_evidence_",
                               lambda label, url, workdir: bench_database(label, url, settings, workdir))
    if render_report:
        print()
        print("\n".join(render_report))
    if results is None:
        return 2
    rows = [result.download for result in results.values()]
    floors = [result.floor for result in results.values() if result.floor is not None]
    print()
    print(download_table(rows + floors))
    for row in rows:
        ratio = row.rps_ratio
        verdict = "meets" if ratio is not None and ratio >= TARGET_DOWNLOAD_RATIO else "MISSES"
        print(f"{row.database}: stored download at {ratio_cell(ratio, '.2f')} of the bare endpoint's throughput: "
              f"{verdict} the {TARGET_DOWNLOAD_RATIO} target")
    if any(result.pack is not None for result in results.values()):
        print()
        print(pack_table(results))
    for label, result in results.items():
        progress = f"; the pack reported progress {result.pack['progress_calls']} times" if result.pack else ""
        print(f"{label}: lms demo --agents {settings.agents} took {result.demo_seconds:.0f} s{progress}")
    print(f"(whole run: {time.monotonic() - started:.0f} s on {os.cpu_count()} cores)")
    return exit_status(rows + floors)


if __name__ == "__main__":
    sys.exit(main())
