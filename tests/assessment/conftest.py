"""A published quiz with one item of each type, and helpers to answer it from the key."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment import services
from lms.assessment.models import Attempt
from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from lms.question_types import REGISTRY
from tests import factories

FIXTURE = Path(__file__).resolve().parent.parent / "content" / "fixtures" / "valid"


@pytest.fixture
def quiz(app) -> Quiz:
    load_content(FIXTURE)
    db.session.commit()
    return db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))


@pytest.fixture
def agent(app):
    person = factories.user(Role.AGENT)
    db.session.commit()
    return person


def best_form(item: dict, shown: dict, attempt_response=None) -> dict:
    """The form a person who knows the key would send (for a simulation: the next best reply)."""
    kind = item["type"]
    if kind == "single_choice":
        return {"option": item["correct"]}
    if kind == "true_false":
        return {"option": "true" if item["correct"] else "false"}
    if kind == "multiple_response":
        return {"option": list(item["correct"])}
    if kind == "ordering":
        return {f"position-{oid}": str(item["correct"].index(oid) + 1) for oid in item["correct"]}
    _, node = REGISTRY["call_simulation"].walk(item, list(attempt_response or []))
    best = max(node["choices"], key=lambda c: c["score"])
    return {"option": best["id"], "action": "say"}


def worst_form(item: dict, shown: dict, attempt_response=None) -> dict:
    """A wrong answer of the right shape."""
    kind = item["type"]
    if kind in ("single_choice", "multiple_response"):
        key = {item["correct"]} if isinstance(item["correct"], str) else set(item["correct"])
        wrong = [o["id"] for o in item["options"] if o["id"] not in key]
        return {"option": wrong[:1]}
    if kind == "true_false":
        return {"option": "false" if item["correct"] else "true"}
    if kind == "ordering":
        reverse = list(reversed(item["correct"]))
        return {f"position-{oid}": str(reverse.index(oid) + 1) for oid in reverse}
    _, node = REGISTRY["call_simulation"].walk(item, list(attempt_response or []))
    worst = min(node["choices"], key=lambda c: c["score"])
    return {"option": worst["id"], "action": "say"}


def answer_all(client, attempt: Attempt, form_for=best_form) -> None:
    """Answer every item through the real pages, replaying a simulation to its end."""
    for position in range(1, len(attempt.draw) + 1):
        while True:
            db.session.expire_all()
            fresh = db.session.get(Attempt, attempt.id)
            item, shown = services.item_at(fresh, position)
            answer = services.answers_by_position(fresh).get(position)
            if item["type"] == "call_simulation" and answer and \
                    services.question_type(item).answered(item, answer.response):
                break
            form = form_for(item, shown, answer.response if answer else None)
            response = client.post(f"/attempts/{attempt.id}/questions/{position}",
                                   data={**form, "csrf_token": _token(client, attempt.id, position)})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
            if item["type"] != "call_simulation":
                break


def _token(client, attempt_id: int, position: int) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, f"/attempts/{attempt_id}/questions/{position}")


def start(agent, quiz, seed: int = 7) -> Attempt:
    attempt = services.start_attempt(agent, quiz, random.Random(seed))
    db.session.commit()
    return attempt
