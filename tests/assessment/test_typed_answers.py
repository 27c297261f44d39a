"""A refused answer comes back as it was typed (#19: ordering questions kept their entries only
when they had been saved before)."""
from __future__ import annotations

import re

from lms.assessment import services
from lms.extensions import db
from tests.assessment.conftest import _token, start


def _attempt_with_an_ordering(agent, quiz):
    """An attempt whose draw includes the ordering item, and its position."""
    for seed in range(40):
        attempt = start(agent, quiz, seed)
        for position in range(1, len(attempt.draw) + 1):
            if services.item_at(attempt, position)[0]["type"] == "ordering":
                return attempt, position
        db.session.delete(attempt)
        db.session.commit()
    raise AssertionError("no seed draws the fixture quiz's ordering item")


def test_an_ordering_with_a_repeated_position_keeps_what_was_typed(client, login_as, agent, quiz):
    login_as(agent)
    attempt, position = _attempt_with_an_ordering(agent, quiz)
    _, shown = services.item_at(attempt, position)
    first, second, *rest = shown["order"]
    typed = {f"position-{first}": "2", f"position-{second}": "2"}  # the same place twice: refused
    typed.update({f"position-{oid}": str(n) for n, oid in enumerate(rest, start=3)})

    response = client.post(f"/attempts/{attempt.id}/questions/{position}",
                           data={**typed, "action": "next", "csrf_token": _token(client, attempt.id, position)})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field, value in typed.items():
        select = re.search(rf'<select id="{field}"[^>]*>(.*?)</select>', html, re.S).group(1)
        assert re.search(rf'<option value="{value}"\s+selected>', select), (field, value)
