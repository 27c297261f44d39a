"""A certificate carries BASE_URL's address whatever Host the request claimed; wrong ones are found and re-issued."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.certification.models import Award, Enrolment
from lms.evidence.embedded import embedded_json
from lms.evidence.models import Certificate
from lms.extensions import db
from tests import factories
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.conftest import csrf_token, login
from tests.evidence.test_certificates import certified  # noqa: F401 (fixture)
from tests.evidence.test_transcript import pdf_text

BASE = "https://academy.example.com"


def test_the_verification_address_comes_from_base_url_not_the_host_header(app, certified, client, login_as,
                                                                             tmp_path: Path):
    app.config["BASE_URL"] = BASE
    login_as(certified["agent"])
    award = certified["award"]
    # The agent's own cookie, sent with a Host header of the attacker's choosing.
    client.set_cookie("session", client.get_cookie("session").value, domain="attacker.example")
    download = client.get(f"/awards/{award.id}/certificate.pdf", headers={"Host": "attacker.example"})
    assert download.status_code == 200
    record = embedded_json(download.data, "certificate.json")
    assert record["verify_url"] == f"{BASE}/verify/{award.verification_code}"
    path = tmp_path / "c.pdf"
    path.write_bytes(download.data)
    # The printed address wraps where the layout breaks it (the exact code is checked in the JSON above).
    text = pdf_text(path).replace(" ", "")
    assert "https://academy.example.com/verify/" in text and "attacker" not in text


def _issue_under(app, client, agent, award, base_url: str) -> bytes:
    app.config["BASE_URL"] = base_url
    login(client, agent.email, factories.PASSWORD)
    return client.get(f"/awards/{award.id}/certificate.pdf").data


def test_check_addresses_lists_a_stored_certificate_with_a_foreign_address(app, certified, client, runner):
    award = certified["award"]
    _issue_under(app, client, certified["agent"], award, "http://attacker.example")
    app.config["BASE_URL"] = BASE
    result = runner.invoke(args=["lms", "evidence", "check-addresses"])
    assert result.exit_code == 1
    assert f"code {award.verification_code}: carries http://attacker.example/verify/" in result.output
    assert f"expected {BASE}/verify/{award.verification_code}" in result.output
    assert f"{BASE}/people/{certified['agent'].id}" in result.output


def test_an_admin_reissues_a_certificate_with_a_new_code_and_the_old_one_is_revoked(app, certified, client, runner):
    award = certified["award"]
    agent = certified["agent"]
    old_pdf = _issue_under(app, client, agent, award, "http://attacker.example")
    app.config["BASE_URL"] = BASE
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    staff = app.test_client()
    login(staff, admin.email, factories.PASSWORD)
    person_page = f"/people/{agent.id}"
    assert "Re-issue with a new code" in staff.get(person_page).get_data(as_text=True)
    response = staff.post(f"/awards/{award.id}/reissue", data={"csrf_token": csrf_token(staff, person_page)})
    assert response.status_code == 302
    db.session.expire_all()

    old = db.session.get(Award, award.id)
    new = db.session.scalars(select(Award).where(Award.reissued_from_id == award.id)).one()
    assert old.revoke_reason == "re-issued" and old.revoked_by_id == admin.id
    assert new.verification_code != old.verification_code and new.revoked_at is None
    assert (new.issued_at, new.valid_until, new.evidence) == (old.issued_at, old.valid_until, old.evidence)
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == agent.id)).one()
    assert enrolment.current_award_id == new.id and enrolment.award_code == new.verification_code
    # The old file is untouched; the new one carries BASE_URL's address.
    assert db.session.scalar(select(Certificate.pdf).where(Certificate.award_id == old.id)) == old_pdf
    new_pdf = db.session.scalar(select(Certificate.pdf).where(Certificate.award_id == new.id))
    assert embedded_json(new_pdf, "certificate.json")["verify_url"] == f"{BASE}/verify/{new.verification_code}"
    assert "Revoked" in client.get(f"/verify/{old.verification_code}").get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)))
    assert {"award.revoked", "award.reissued"} <= actions
    assert runner.invoke(args=["lms", "evidence", "check-addresses"]).exit_code == 0


def test_only_admins_reissue_and_never_a_revoked_award(app, certified):
    award = certified["award"]
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    staff = app.test_client()
    login(staff, trainer.email, factories.PASSWORD)
    page = f"/people/{certified['agent'].id}"
    assert "Re-issue with a new code" not in staff.get(page).get_data(as_text=True)
    assert staff.post(f"/awards/{award.id}/reissue", data={"csrf_token": csrf_token(staff, page)}).status_code == 403
    assert db.session.scalars(select(Award)).all() == [award]
