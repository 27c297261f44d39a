"""The evidence pack of one organisation: what an auditor or an outsourcing partner asks for.

A cover page (organisation, scope, date range, who generated it and when, the audit chain
head), the summary by status with a chart and its table, the roster (agent, programme, status,
valid until, certificate code), average scores by call phase, the overdue list, revocations in
the period, and a methodology appendix. The PDF is PDF/A-3b, signed, with the same data
attached as pack.json and roster.csv; the JSON and CSV are also returned on their own.

`build_pack` runs as a background job (lms/evidence/exports.py): it reads no request and no
signed-in user, only its arguments and the app's configuration, writes no audit event and
does not commit. The PDF is written in the language of the person who asked for it (theirs,
else their organisation's) with times in their zone; the JSON and the CSV stay as data, in
English. The job's progress callback commits the session, so it is called only
between queries, never while a result is being streamed.

It runs a fixed number of queries whatever the number of agents (tests/evidence/test_pack.py
counts them): status for every enrolment comes from the dashboard's one SQL expression
(lms/certification/reports.py), scores from one pass over the attempts.
"""
from __future__ import annotations

import csv
import io
import json
import textwrap
from base64 import b64encode
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from lms.accounts.models import Organisation, User
from lms.assessment.models import Attempt, AttemptStatus
from lms.audit.publishing import for_documents
from lms.certification import reports
from lms.certification.charts import status_chart_svg
from lms.certification.models import Award, Programme, ProgrammeVersion
from lms.certification.status import Status
from lms.clock import now
from lms.evidence import documents, renderer, signing
from lms.evidence.branding import current_branding
from lms.evidence.transcript import FORMATTERS, PHASE_ORDER, format_date
from lms.extensions import db
from lms.i18n import is_time_zone
from lms.learning.models import Quiz, QuizVersion
from lms.policy import restrict_users

# Progress is reported after each chunk of roster rows, so a bar moves on a big organisation.
ROSTER_CHUNK = 250
# A pack is a background job: a large organisation takes a while to lay out (about 3 ms per
# roster row), so its limits are wider than a certificate's; they still stop a runaway render.
RENDER_TIMEOUT_S = 600
RENDER_MEMORY_MB = 2048


@dataclass(frozen=True)
class PackFiles:
    pdf: bytes      # signed PDF/A-3b with pack.json and roster.csv attached
    json: bytes     # the same data, UTF-8 JSON
    csv: bytes      # the roster, UTF-8 with BOM, spreadsheet-safe cells


def build_pack(organisation_id: int, *, generated_by_id: int, date_from: date | None = None,
               date_to: date | None = None, progress: Callable[[int, int], None] | None = None) -> PackFiles:
    """The evidence pack of `organisation_id`, generated for the user `generated_by_id`.

    The roster, the summary and the overdue list give each active agent's status now (when the
    pack is generated). `date_from` and `date_to` (inclusive, UTC days) limit the activity:
    the attempts behind the scores by phase, and the awards issued and revoked. The agents
    are those the user may see (policy.restrict_users): the caller checks that the user may
    export this organisation at all. `progress(done, total)` is called as the work goes on.
    Raises LookupError if the organisation or the user does not exist.
    """
    report = progress or (lambda done, total: None)
    at = now()
    organisation = db.session.get(Organisation, organisation_id)
    actor = db.session.get(User, generated_by_id)
    if organisation is None or actor is None:
        raise LookupError("No such organisation or user")
    start = datetime.combine(date_from, time.min, tzinfo=timezone.utc) if date_from else None
    end = datetime.combine(date_to, time.max, tzinfo=timezone.utc) if date_to else None
    filters = reports.Filters(organisation_id=organisation_id, sort="name")
    # Plain values from here on: the progress callback commits, which expires ORM objects.
    data: dict[str, Any] = {
        "document": "evidence-pack",
        "organisation": {"id": organisation.id, "name": organisation.name, "kind": organisation.kind.label,
                         "country": organisation.country, "contract_reference": organisation.contract_reference},
        "scope": _scope_text(organisation.name, start, end),
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
        "generated_at": at.isoformat(), "status_as_at": at.isoformat(),
        "generated_by": {"name": actor.name, "email": actor.email, "role": actor.role.value},
        "audit_checkpoint": for_documents(),
    }
    query = reports.status_rows(actor, filters, at)
    # In the order of the CSV (by name). Fetched whole: progress() must not commit mid-stream.
    rows = db.session.execute(query).all()
    total = 2 * len(rows) + 4  # collecting and laying out each row, then four fixed stages
    done = 0
    report(done, total)

    roster, overdue = [], []
    by_programme: dict[str, Counter] = {}
    for index in range(0, len(rows), ROSTER_CHUNK):
        for row in rows[index:index + ROSTER_CHUNK]:
            entry = _roster_entry(row._mapping)
            roster.append(entry)
            by_programme.setdefault(entry["programme"], Counter())[entry["status"]] += 1
            if entry["status"] == Status.OVERDUE.value:
                overdue.append({**entry, "days_overdue": (at - row.due).days})
        done += len(rows[index:index + ROSTER_CHUNK])
        report(done, total)
    overdue.sort(key=lambda r: (r["due"], r["agent"].casefold()))
    by_status = Counter()
    for counts in by_programme.values():
        by_status.update(counts)
    data["summary"] = {
        "agents": len({r["email"] for r in roster}), "enrolments": len(roster),
        "by_status": {s.value: by_status.get(s.value, 0) for s in Status},
        "by_programme": {name: {s.value: counts.get(s.value, 0) for s in Status}
                         for name, counts in sorted(by_programme.items(), key=lambda kv: kv[0].casefold())},
    }
    data["roster"], data["overdue"] = roster, overdue

    data["scores_by_phase"] = _scores_by_phase(actor, organisation_id, start, end)
    data["activity"] = _activity(actor, organisation_id, start, end)
    done += 1
    report(done, total)

    csv_bytes = _roster_csv(rows)
    json_bytes = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    done += 1
    report(done, total)

    html = _html(data, *_reader(actor))
    attachments = [
        renderer.Attachment(name="pack.json", data=json_bytes, mime_type="application/json",
                       description="The evidence pack's data, machine-readable"),
        renderer.Attachment(name="roster.csv", data=csv_bytes, mime_type="text/csv",
                       description="The roster: agent, programme, status, dates and certificate code"),
    ]
    rendered = renderer.render_pdf(html, attachments=attachments, timeout_s=RENDER_TIMEOUT_S,
                              max_memory_mb=RENDER_MEMORY_MB, lane=renderer.BACKGROUND)
    done += len(rows) + 1
    report(done, total)
    signed = signing.sign_pdf(rendered, signing.signer_from_config(current_app.config),
                              reason="Training evidence pack issued by CallSafe Academy")
    report(total, total)
    return PackFiles(pdf=signed, json=json_bytes, csv=csv_bytes)


def _reader(actor: User) -> tuple[str, str]:
    """The language and time zone of the person the pack is for: theirs, else their organisation's,
    else the defaults. One query, always: not the per-app cache of organisations' defaults
    (lms.i18n.user_language) nor the session's identity map, so a pack costs the same queries
    whenever it runs and whoever asks."""
    config = current_app.config
    organisation_language, organisation_zone = db.session.execute(
        select(Organisation.language, Organisation.time_zone).where(Organisation.id == actor.organisation_id)).one()
    language = next((choice for choice in (actor.language, organisation_language) if choice in config["LANGUAGES"]),
                    config["BABEL_DEFAULT_LOCALE"])
    zone = next((choice for choice in (actor.time_zone, organisation_zone) if choice and is_time_zone(choice)),
                config["BABEL_DEFAULT_TIMEZONE"])
    return language, zone


# --- the data -----------------------------------------------------------------------------------


def _roster_csv(rows: list) -> bytes:
    """The dashboard's CSV (same columns, spreadsheet-safe cells, BOM) of the rows already read.

    Not reports.csv_chunks: that runs the query again, and the CSV must hold exactly the rows
    that the PDF and the JSON show, whatever changed in between.
    """
    buffer = io.StringIO()
    buffer.write("\ufeff")  # tells Excel the file is UTF-8
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in reports.CSV_COLUMNS])
    for row in rows:
        values = row._mapping
        writer.writerow([reports.spreadsheet_safe(
            values[key].strftime("%Y-%m-%d") if isinstance(values[key], datetime) else
            Status(values[key]).english if key == "status" else values[key]) for key, _ in reports.CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def _scope_text(name: str, start: datetime | None, end: datetime | None) -> str:
    period = ("all dates" if not (start or end) else
              f"{start:%d %b %Y} to {end:%d %b %Y}" if start and end else
              f"from {start:%d %b %Y}" if start else f"up to {end:%d %b %Y}")
    return (f"Every active agent of {name} and each programme assigned to them; status as at generation. "
            f"Attempts, awards issued and revocations: {period}.")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _roster_entry(row) -> dict[str, Any]:
    return {"agent": row["name"], "email": row["email"], "employee_id": row["employee_id"], "team": row["team"],
            "programme": row["programme"], "status": row["status"],
            "due": _iso(row["due"]), "valid_until": _iso(row["valid_until"]), "certificate_code": row["code"]}


def _in_period(column, start: datetime | None, end: datetime | None) -> list:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return conditions


def _scores_by_phase(actor: User, organisation_id: int, start: datetime | None,
                     end: datetime | None) -> list[dict[str, Any]]:
    """Per quiz: the finished attempts in the period, their pass rate, average score, and average
    per call phase (each attempt stores its phase scores; averaged here in one pass)."""
    programmes: dict[str, list[str]] = {}
    for title, spec in db.session.execute(
            select(ProgrammeVersion.title, ProgrammeVersion.spec)
            .join(Programme, Programme.current_version_id == ProgrammeVersion.id)
            .where(Programme.archived_at.is_(None))):
        for requirement in spec.get("requirements", []):
            if "quiz" in requirement:
                programmes.setdefault(requirement["quiz"], []).append(title)
    query = restrict_users(actor, (
        select(Quiz.slug, QuizVersion.title, Attempt.percent, Attempt.passed, Attempt.phase_scores)
        .join(User, User.id == Attempt.user_id)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(QuizVersion, QuizVersion.id == Quiz.current_version_id)
        .where(User.organisation_id == organisation_id, User.active.is_(True),
               Attempt.status != AttemptStatus.IN_PROGRESS,
               *_in_period(Attempt.finished_at, start, end))))
    quizzes: dict[str, dict[str, Any]] = {}
    result = db.session.execute(query.execution_options(yield_per=2000))
    try:  # a server-side cursor on PostgreSQL: closed however the loop ends
        for slug, title, percent, passed, phases in result:
            quiz = quizzes.setdefault(slug, {"quiz": title, "slug": slug, "programmes": programmes.get(slug, []),
                                             "attempts": 0, "passed": 0, "total": 0.0, "phases": {}})
            quiz["attempts"] += 1
            quiz["passed"] += bool(passed)
            quiz["total"] += percent or 0.0
            for phase, score in (phases or {}).items():
                sums = quiz["phases"].setdefault(phase, [0.0, 0])
                sums[0] += score["percent"]
                sums[1] += 1
    finally:
        result.close()
    scores = []
    for quiz in sorted(quizzes.values(), key=lambda q: q["quiz"].casefold()):
        phases = quiz.pop("phases")
        ordered = [p for p in PHASE_ORDER if p in phases] + sorted(set(phases) - set(PHASE_ORDER))
        total = quiz.pop("total")
        scores.append({**quiz, "pass_rate": round(100 * quiz["passed"] / quiz["attempts"], 1),
                       "average": round(total / quiz["attempts"], 1),
                       "phases": {p: round(phases[p][0] / phases[p][1], 1) for p in ordered}})
    return scores


def _activity(actor: User, organisation_id: int, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """Awards issued in the period (a count) and revocations in it (each, with who and why)."""
    issued = db.session.scalar(restrict_users(actor, select(func.count(Award.id))
                                              .join(User, User.id == Award.user_id)
                                              .where(User.organisation_id == organisation_id,
                                                     User.active.is_(True),
                                                     *_in_period(Award.issued_at, start, end))))
    revoker = aliased(User)
    rows = db.session.execute(restrict_users(actor, (
        select(User.name, ProgrammeVersion.title, Award.verification_code, Award.revoked_at, Award.revoke_reason,
               revoker.name.label("revoked_by"))
        .join(User, User.id == Award.user_id)
        .join(ProgrammeVersion, ProgrammeVersion.id == Award.programme_version_id)
        .outerjoin(revoker, revoker.id == Award.revoked_by_id)
        .where(User.organisation_id == organisation_id, User.active.is_(True), Award.revoked_at.is_not(None),
               *_in_period(Award.revoked_at, start, end))
        .order_by(Award.revoked_at, Award.id))))
    return {"awards_issued": issued, "revocations": [
        {"agent": r.name, "programme": r.title, "certificate_code": r.verification_code,
         "revoked_at": r.revoked_at.isoformat(), "revoked_by": r.revoked_by or "system",
         "reason": r.revoke_reason or ""}
        for r in rows]}


# --- the document -------------------------------------------------------------------------------

# The roster is set as plain monospaced lines in columns, a few agents to a table row, rather
# than as a cell (or even a styled span) per value: WeasyPrint spends about 3 ms laying out a
# row of cells and a fraction of that on a line of text, and the roster is nearly all of a big
# pack (1,000 agents: about 2,500 lines). The table keeps its header row on every page, rows
# are banded for the eye, and names longer than their column wrap within it.
# Headings and widths in English; a language whose words are longer widens its columns (_widths).
ROSTER_COLUMNS = ((_l("Agent (employee id), team"), 50), (_l("Status"), 12), (_l("Valid until"), 11),
                  (_l("Certificate code"), 24))
ROSTER_LINES_PER_ROW = 4
# Marks a date formatter adds around right-to-left numbers: zero width, they would only shift the columns.
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c"))


def _widths(language: str, entries: list[dict[str, Any]]) -> list[int]:
    """Each column's width in the current language: wide enough for its heading, the statuses and the
    entries' dates."""
    widths = [max(width, len(str(title))) for title, width in ROSTER_COLUMNS]
    widths[1] = max(widths[1], *(len(str(s.label)) for s in Status))
    widths[2] = max(widths[2], *(len(_roster_date(e["valid_until"], language)) for e in entries), 0)
    return widths


def _roster_date(value: str | None, language: str) -> str:
    """An ISO timestamp of the data as a short date: "12 Mar 2026" in English, the language's own medium
    date otherwise, without bidirectional marks."""
    if language == "en" or not value:
        return format_date(value)
    return documents._format_date(datetime.fromisoformat(value).date(), language, "medium").translate(_BIDI_MARKS)


def _roster_header(widths: list[int]) -> str:
    return "  ".join(str(title).ljust(width) for (title, _width), width in zip(ROSTER_COLUMNS, widths)).rstrip()


def _roster_blocks(entries: list[dict[str, Any]], language: str, widths: list[int]) -> list[list[str]]:
    """The entries as lines of fixed-width columns, grouped into table rows (an agent's lines together)."""
    name_width, status_width, date_width, _ = widths
    blocks: list[list[str]] = [[]]
    for entry in entries:
        # One line per physical line: a name typed with line breaks or tabs must not break the columns.
        name = " ".join(entry["agent"].split())
        if entry.get("employee_id"):
            name += f" ({' '.join(entry['employee_id'].split())})"
        if entry.get("team"):
            name += f", {' '.join(entry['team'].split())}"
        parts = textwrap.wrap(name, name_width, break_on_hyphens=False) or [""]
        if blocks[-1] and len(blocks[-1]) + len(parts) > ROSTER_LINES_PER_ROW:
            blocks.append([])
        blocks[-1].append("  ".join((parts[0].ljust(name_width), str(Status(entry["status"]).label).ljust(status_width),
                                     _roster_date(entry["valid_until"], language).ljust(date_width),
                                     entry["certificate_code"] or "")).rstrip())
        blocks[-1].extend(parts[1:])
    return blocks if blocks[0] else []


def _roster_cells(entries: list[dict[str, Any]], language: str) -> list[tuple[str, str, str, str]]:
    """The entries as table cells (agent, status, valid until, certificate code), for a right-to-left
    language: there, monospaced columns cannot hold, as Arabic words and Latin names reorder within a
    line. A cell per value costs WeasyPrint more time, which the few right-to-left packs can afford."""
    cells = []
    for entry in entries:
        name = " ".join(entry["agent"].split())
        if entry.get("employee_id"):
            name += f" ({' '.join(entry['employee_id'].split())})"
        if entry.get("team"):
            name += f", {' '.join(entry['team'].split())}"
        cells.append((name, str(Status(entry["status"]).label), _roster_date(entry["valid_until"], language),
                      entry["certificate_code"] or ""))
    return cells


def _html(data: dict[str, Any], language: str = "en", time_zone: str | None = None) -> str:
    """The pack's HTML in `language`, times in `time_zone` (the chart, the roster's lines and the
    template all in that language)."""
    branding = current_branding()
    by_programme = data["summary"]["by_programme"]
    phases = [p for p in PHASE_ORDER if any(p in q["phases"] for q in data["scores_by_phase"])]
    phases += sorted({p for q in data["scores_by_phase"] for p in q["phases"]} - set(phases))
    roster_by_programme: dict[str, list[dict[str, Any]]] = {}
    for entry in data["roster"]:
        roster_by_programme.setdefault(entry["programme"], []).append(entry)
    with force_locale(language):
        # The dashboard's chart, with programmes where it has organisations; inline as a data: URI
        # (the PDF fetcher serves those), with the table below it as its text alternative. Not in a
        # right-to-left document: WeasyPrint draws an SVG's Arabic text unshaped and backwards, and
        # the table says the same.
        chart = (status_chart_svg(by_programme)
                 if by_programme and language not in documents.RIGHT_TO_LEFT else None)
        if language in documents.RIGHT_TO_LEFT:
            roster = {programme: (len(entries), _roster_cells(entries, language))
                      for programme, entries in roster_by_programme.items()}
            header = [str(title) for title, _width in ROSTER_COLUMNS]
        else:
            widths = _widths(language, data["roster"])
            roster = {programme: (len(entries), _roster_blocks(entries, language, widths))
                      for programme, entries in roster_by_programme.items()}
            header = _roster_header(widths)
    return documents.render_document("pdf/pack.html", dict(
        asset_base=renderer.STATIC_PDF_DIR.as_uri() + "/", data=data, statuses=list(Status),
        chart=f"data:image/svg+xml;base64,{b64encode(chart.encode('utf-8')).decode('ascii')}" if chart else None,
        roster=roster, roster_header=header, phases=phases,
        # The period's days are dates, not moments: shown as they are, in the language.
        day=lambda value: documents._format_date(date.fromisoformat(value), language, "medium") if value else "",
        brand=documents.document_brand(branding.company_name, branding.primary_colour, branding.logo), **FORMATTERS),
        language=language, time_zone=time_zone)
