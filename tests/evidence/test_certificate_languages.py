"""Certificates in the agent's language (#19): a Portuguese agent's and an Arabic-speaking agent's.

Each agent passes the programme with certificates rendered at award time (the real renderer, as
in production); the stored PDF is read back with poppler's pdftotext and pdffonts, as a reader
would. The document is in the agent's language (their own, else their organisation's); the
language it states as that of study and assessment is the one their quiz was shown in.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.certification import services
from lms.certification.models import Award
from lms.evidence.certificates import verify_code
from lms.evidence.embedded import embedded_json
from lms.evidence.models import Certificate
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz


@pytest.fixture
def signing_key(app, tmp_path: Path) -> Path:
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None,
                      SIGNING_KEY_ID=None, CERTIFICATES_ON_AWARD=True, BASE_URL="https://academy.example.org")
    return key


def _certificate_of(content, tmp_path: Path, *, user_language: str | None, organisation_language: str | None,
                    quiz_in: str | None = None):
    """The stored certificate of an agent who just passed, saved to a file, and its embedded data.

    `quiz_in`: a language the quiz has a (current) translation into, so the agent takes it in that language."""
    if quiz_in:
        factories.translation("quiz", content.slug, quiz_in, {"title": f"recording-calls ({quiz_in})"},
                              translation_of=content.current_version.content_hash)
    partner = factories.organisation("Atlas Care")
    partner.language = organisation_language
    agent = factories.user(Role.AGENT, partner, name="Yasmine El Idrissi")
    agent.language = user_language
    services.assign(None, make_programme(), organisation_id=partner.id, due_days=14)
    _read_course(agent)
    db.session.commit()
    _take_quiz(agent, content, best_form)  # passes: the award is issued and its certificate rendered
    db.session.expire_all()
    award = db.session.scalars(select(Award)).one()
    pdf = db.session.scalars(select(Certificate.pdf).where(Certificate.award_id == award.id)).one()
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return str(path), embedded_json(pdf, "certificate.json")


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def _text(path: str) -> str:
    """The text with whitespace collapsed and the direction marks pdftotext adds around runs dropped."""
    return " ".join(re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", _run("pdftotext", path, "-")).split())


def test_a_portuguese_agents_certificate_is_in_portuguese(app, client, content, at, signing_key, tmp_path):
    path, data = _certificate_of(content, tmp_path, user_language="pt", organisation_language="en", quiz_in="pt")

    text = _text(path)
    assert "Certificado de conclusão" in text and "Certificate of completion" not in text
    assert "Língua de estudo e avaliação: Português" in text
    assert re.search(r"\b\d{1,2} de [a-zç]+ de \d{4}\b", text)  # dates in Portuguese: "5 de janeiro de 2027"
    assert data["language"] == "pt"  # and the data a reader of the JSON and the verifier see
    assert verify_code(data["verification_code"]).language == "pt"
    page = client.get(f"/verify/{data['verification_code']}").get_data(as_text=True)
    assert "Language of study and assessment</dt><dd>Português" in page


def test_an_arabic_speaking_agents_certificate_is_in_arabic_with_arabic_glyphs(app, content, at, signing_key,
                                                                                tmp_path):
    # No language of their own: their organisation's applies.
    path, data = _certificate_of(content, tmp_path, user_language=None, organisation_language="ar", quiz_in="ar")

    text = _text(path)
    assert "شهادة إتمام" in text
    # (pdftotext puts the colon of a right-to-left line on the wrong side of its space)
    assert re.search("لغة الدراسة والتقييم ?: ?العربية", text)
    assert "Certificate of completion" not in text
    assert data["language"] == "ar"
    # Real glyphs of a font that has them, embedded: not boxes, not a fallback from the machine.
    assert "NotoNaskhArabic" in _run("pdffonts", path)


def test_a_certificate_states_the_language_of_the_quiz_not_the_agents(app, content, at, signing_key, tmp_path):
    # A Portuguese-speaking agent whose quiz has no Portuguese translation took it in English: the
    # certificate is in Portuguese and says so, and names the quiz as it was taken.
    path, data = _certificate_of(content, tmp_path, user_language="pt", organisation_language=None)

    text = _text(path)
    assert "Certificado de conclusão" in text
    assert "Língua de estudo e avaliação: English" in text
    assert data["language"] == "en"


def test_the_certificate_names_the_quiz_as_the_agent_took_it(app, content, at, signing_key, tmp_path):
    path, data = _certificate_of(content, tmp_path, user_language="pt", organisation_language=None, quiz_in="pt")

    assert [quiz["title"] for quiz in data["quizzes"]] == ["recording-calls (pt)"]
    assert "recording-calls (pt)" in _text(path)
