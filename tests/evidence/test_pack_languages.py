"""The evidence pack in the language of the person who asks for it (#19): a French trainer's
pack is in French, an Arabic-speaking auditor's in Arabic, right to left, with the Arabic font
embedded; times are in their zone, named. The pack's data (JSON, CSV) stays in English.

The PDF is read back with poppler's pdftotext and pdffonts, as a reader would.
"""
from __future__ import annotations

import json
import re
import subprocess

from sqlalchemy import select

from lms.accounts.models import User
from lms.evidence.pack import build_pack
from lms.extensions import db
from tests.evidence.test_pack import TRAINER, biggest_organisation_with_an_overdue_agent, company  # noqa: F401
from tests.evidence.test_transcript import pdf_text, signing_key  # noqa: F401 (fixture)


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def _pack_for(tmp_path, language: str, time_zone: str):
    trainer = db.session.scalar(select(User).where(User.email == TRAINER))
    trainer.language, trainer.time_zone = language, time_zone
    db.session.commit()
    organisation = biggest_organisation_with_an_overdue_agent(trainer)
    files = build_pack(organisation.id, generated_by_id=trainer.id)
    path = tmp_path / f"pack-{language}.pdf"
    path.write_bytes(files.pdf)
    return path, files


def _text(path) -> str:
    """The text with whitespace collapsed and the direction marks pdftotext adds dropped."""
    return " ".join(re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", pdf_text(path)).split())


def test_a_french_trainers_pack_is_in_french_with_times_in_their_zone(app, company, tmp_path):
    path, files = _pack_for(tmp_path, "fr", "Europe/Paris")
    text = _text(path)
    assert "Dossier de preuves de formation" in text and "Training evidence pack" not in text
    assert "1. Synthèse par statut" in text and "2. En retard" in text and "5. Liste nominative" in text
    assert "Annexe : méthodologie et vérification" in text
    assert "En retard" in text and "Overdue" not in text  # the statuses, in the roster and the table
    assert "Europe/Paris" in text and re.search(r"\b\d{1,2} [a-zéû]+\.? 2026\b", text)  # "1 juin 2026"
    assert "Page 1 sur" in text or "Page 2 sur" in text
    data = json.loads(files.json)  # the data is the same whatever the reader's language
    assert {r["status"] for r in data["roster"]} >= {"overdue"} and "Every active agent" in data["scope"]
    assert "Overdue" in files.csv.decode("utf-8-sig")


def test_an_arabic_speaking_auditors_pack_is_in_arabic_with_arabic_glyphs(app, company, tmp_path):
    path, _ = _pack_for(tmp_path, "ar", "Africa/Casablanca")
    text = _text(path)
    assert "ملف أدلة التدريب" in text and "Training evidence pack" not in text
    assert "متأخر" in text and "Africa/Casablanca" in text
    assert "NotoNaskhArabic" in _run("pdffonts", str(path))
