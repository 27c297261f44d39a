"""The privacy pages in the reader's language (#19): an Arabic-speaking admin reads the breach
register right to left, its status and clock in Arabic, the title as typed kept apart (<bdi>) so a
Latin title keeps its punctuation; a French admin reads the data-subject requests with the rights
named in French. Times and days stay in UTC, as the register says."""
from __future__ import annotations

from datetime import date

from lms.accounts.models import Role
from lms.extensions import db
from lms.privacy.requests import Right, record_request
from tests import factories
from tests.privacy.test_breaches import T0, a_breach, at, signed_in  # noqa: F401 (fixture)

LATIN_TITLE = "Laptop left on a train (Lisboa team)."


def _admin(language: str):
    person = factories.user(Role.ADMIN)
    person.language = language
    db.session.commit()
    return person


def test_an_arabic_speaking_admin_reads_the_breach_register_in_arabic(app, at):
    admin = _admin("ar")
    breach = a_breach(admin, T0, title=LATIN_TITLE)
    client = signed_in(app, admin)

    register = client.get("/admin/breaches").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in register
    assert "سجل الانتهاكات" in register and "Breach register" not in register
    assert "مفتوح" in register and "المهلة جارية" in register  # Open; Clock running
    assert f"<bdi>{LATIN_TITLE}</bdi>" in register
    assert "UTC" in register  # the register's times, named

    page = client.get(f"/admin/breaches/{breach.id}").get_data(as_text=True)
    assert f"الانتهاك {breach.id}: <bdi>{LATIN_TITLE}</bdi>" in page  # Breach N: title
    assert "Save changes" not in page


def test_a_french_admin_reads_the_requests_with_the_rights_in_french(app, at):
    admin = _admin("fr")
    agent = factories.user(Role.AGENT)
    db.session.commit()
    record_request(admin, agent, Right.ACCESS, date(2026, 1, 2), "Called back on the number on file")
    db.session.commit()

    page = signed_in(app, admin).get("/admin/requests").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr"' in page
    assert "Demandes des personnes concernées" in page and "Accès (art. 15)" in page
    assert "Access (Art. 15)" not in page
