"""The record of processing activities (Art. 30(1)) for the processing the academy itself performs.

Built from lms/privacy/processing.py, like the privacy notice, so the two cannot disagree; admins
download it as CSV (one row per processing activity, the usual layout of such a record) and as
PDF (lms/evidence/documents.py and renderer.py, templates/pdf/processing_record.html).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lms.certification.reports import spreadsheet_safe
from lms.evidence import documents, renderer
from lms.evidence.branding import current_branding
from lms.privacy.processing import SECURITY_MEASURES, controller, purposes, recipients, retention_schedule

RENDER_TIMEOUT_S = 30


def processing_record(config: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """Art. 30(1)(a)-(g) as JSON-ready data: the controller and DPO, then one entry per activity."""
    schedule = {rule.key: rule for rule in retention_schedule(config)}
    who = controller(config)
    return {
        "document": "record-of-processing",
        "generated_at": at.isoformat(),
        "controller": {"name": who["name"], "contact": who["contact"]},
        "dpo": who["dpo"],
        "transfers": who["transfers"],
        "recipients": recipients(config),
        "security_measures": list(SECURITY_MEASURES),
        "activities": [{
            "purpose": p.name, "lawful_basis": p.lawful_basis, "data_subjects": p.subjects, "personal_data": p.data,
            "retention": [{"data": schedule[key].label, "period": schedule[key].period,
                           "then": schedule[key].what_happens} for key in p.retention],
        } for p in purposes(config)],
        "retention": [{"data": r.label, "period": r.period, "then": r.what_happens,
                       "setting": r.setting}
                      for r in retention_schedule(config)],
    }


CSV_COLUMNS = ("Purpose of the processing (b)", "Lawful basis", "Categories of data subjects (c)",
               "Categories of personal data (c)", "Recipients (d)", "Transfers to third countries and safeguards (e)",
               "Time limits for erasure (f)", "Security measures (g)", "Controller (a)", "Controller contact (a)",
               "Data protection officer (a)")


def record_csv(record: Mapping[str, Any]) -> str:
    """The record as CSV, one row per activity (UTF-8 with a BOM, so spreadsheets read the accents)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    shared = ["; ".join(record["recipients"]), record["transfers"]]
    measures = "; ".join(record["security_measures"])
    for activity in record["activities"]:
        retention = "; ".join(f"{r['data']}: {r['period']}, then {r['then']}" for r in activity["retention"])
        row = [activity["purpose"], activity["lawful_basis"], activity["data_subjects"], activity["personal_data"],
               *shared, retention, measures, record["controller"]["name"], record["controller"]["contact"],
               record["dpo"]]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()


def render_record_pdf(record: Mapping[str, Any], *, language: str = "en", time_zone: str | None = None) -> bytes:
    """The record as a PDF/A-3b, its data attached as JSON; its headings in `language`, the time it was
    generated in `time_zone` (the reader's)."""
    branding = current_branding()
    html = documents.render_document("pdf/processing_record.html", dict(
        asset_base=renderer.STATIC_PDF_DIR.as_uri() + "/", record=record,
        brand=documents.document_brand(branding.company_name, branding.primary_colour, branding.logo)),
        language=language, time_zone=time_zone)
    attachment = renderer.Attachment(name="processing-record.json", data=json.dumps(record, indent=2).encode("utf-8"),
                                mime_type="application/json", description="The record's data, machine-readable")
    return renderer.render_pdf(html, attachments=[attachment], timeout_s=RENDER_TIMEOUT_S)
