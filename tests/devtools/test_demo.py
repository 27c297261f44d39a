"""The development demo (devtools/): `lms demo` certifies the demo agent through the services and prints a
working API key; the bulk history follows certification's cycle rules, a material change included."""
from __future__ import annotations

import hashlib
import re
from datetime import timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from devtools.bulk import generate_bulk
from devtools.demo import DEMO_AGENT
from lms.accounts.models import User
from lms.api.models import ApiKey
from lms.certification.models import Award, Enrolment, Programme, Recertification
from lms.credentials.models import OpenBadge
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from lms.learning.sync import load_content


@pytest.fixture
def loaded(app, tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None, SIGNING_KEY_ID=None,
                      BADGE_KEY_PATH=tmp_path / "badge.pem")
    load_content(app.config["CONTENT_ROOT"])
    db.session.commit()


def _printed_request(output: str) -> tuple[str, str]:
    token, url = re.search(r"Bearer (csa_\S+)' (\S+)", output).groups()
    return token, url.split("127.0.0.1:5000", 1)[1]


def test_the_demo_agent_holds_a_real_award_and_the_printed_key_answers(app, loaded, runner, client):
    first = runner.invoke(args=["lms", "demo"])
    assert first.exit_code == 0, first.output
    agent = db.session.scalar(select(User).where(User.email == DEMO_AGENT))
    award = db.session.scalars(select(Award).where(Award.user_id == agent.id)).one()
    assert award.programme.slug == "agent-certification" and len(award.evidence["quizzes"]) == 3
    assert db.session.scalar(select(OpenBadge).where(OpenBadge.award_id == award.id)) is not None

    token, path = _printed_request(first.output)
    assert path == f"/api/v1/agents/{agent.id}/clearance"
    reply = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    programmes = {p["programme"]: p["status"] for p in reply.get_json()["programmes"]}
    assert programmes["agent-certification"] == "certified"
    key = db.session.scalars(select(ApiKey)).one()
    assert key.secret_hash == hashlib.sha256(token.split("_", 2)[2].encode()).hexdigest()  # stored hashed

    # Two demo agents read the academy in Portuguese and Arabic, where gdpr-essentials is translated.
    languages = dict(db.session.execute(select(User.email, User.language).where(User.language.is_not(None))).all())
    assert languages == {"rui@lisboacs.example": "pt", "omar@atlascare.example": "ar"}

    second = runner.invoke(args=["lms", "demo"])  # idempotent, and a fresh token (the old one is gone)
    assert second.exit_code == 0, second.output
    new_token, _ = _printed_request(second.output)
    assert db.session.scalar(select(db.func.count(Award.id)).where(Award.user_id == agent.id)) == 1
    assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {new_token}"}).status_code == 200


def test_after_a_material_change_only_work_since_then_earns_the_next_award(app, loaded):
    generate_bulk(60)
    db.session.commit()
    change = db.session.scalars(select(Recertification)).one()
    effective = change.effective_at
    waiting = db.session.scalars(select(Enrolment).where(Enrolment.recert_after.is_not(None))).all()
    assert waiting and all(e.recert_after == effective and e.recert_due_at == change.required_by for e in waiting)
    # Nobody who still has to recertify holds an award from after the change.
    assert all(e.current_award.issued_at < effective for e in waiting)

    renewed = 0
    programme = db.session.scalar(select(Programme).where(Programme.id == change.programme_id))
    awards = db.session.scalars(select(Award).where(Award.programme_id == programme.id)
                                .order_by(Award.user_id, Award.issued_at)).all()
    for before, after in zip(awards, awards[1:]):
        if before.user_id == after.user_id and before.issued_at < effective <= after.issued_at:
            renewed += 1
            for quiz in after.evidence["quizzes"]:
                finished = quiz["finished_at"]
                assert finished >= effective.astimezone(timezone.utc).isoformat(), (after.id, quiz["slug"])
    assert renewed
