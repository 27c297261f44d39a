"""The queries that apply "an attempt is its owner's alone" (policy's OWN_ATTEMPT and record rule).

They live with the attempts they read; lms/policy.py keeps the rule itself
(authorise_attempt_owner), so that the policy imports no domain package.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, select

from lms.accounts.models import LoginSession, User
from lms.accounts.services import LIVE_SESSION, SESSION_TOUCH_COLUMNS, cookie_token_digest, live_session_params
from lms.assessment.models import Attempt


def own_attempt_query() -> Select:
    """An attempt is taken, read and reviewed by its owner alone; for anyone else it does not exist.

    Run it with `own_attempt_params(actor, attempt_id)`. It takes its values as parameters so
    that the attempt pages, which run on every answer an agent saves, can build it once.
    """
    return select(Attempt).where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("owner_id"))


def own_attempt_params(actor: User, attempt_id: int) -> dict[str, int]:
    return {"attempt_id": attempt_id, "owner_id": actor.id}


def attempt_owner_query(*columns: ColumnElement) -> Select:
    """OWN_ATTEMPT in one statement: the request's session user and, if it is theirs, the attempt.

    Run it with `attempt_owner_params(attempt_id)` and pass the first row to
    policy.authorise_attempt_owner. Each row holds `session_role`, `owned_attempt_id` (NULL when
    the attempt is not the user's, so that it is a 404 like any other attempt page) and the
    given columns, which may come from Attempt and from tables the caller joins to it, and
    `session_id` and `session_due` for accounts.services.touch_session. The session is live
    by the same rule as every other request's (accounts.services.LIVE_SESSION).
    Signing in and finding the attempt in one statement, rather than one each, is what lets
    saving an answer keep up with agents changing answers all day.
    """
    return (select(User.role.label("session_role"), Attempt.id.label("owned_attempt_id"),
                   User.organisation_id.label("session_organisation_id"),
                   LoginSession.second_factor.label("session_second_factor"),
                   *SESSION_TOUCH_COLUMNS, *columns)
            .select_from(LoginSession)
            .join(User, User.id == LoginSession.user_id)
            .outerjoin(Attempt, and_(Attempt.id == bindparam("attempt_id"), Attempt.user_id == User.id))
            .where(LIVE_SESSION))


def attempt_owner_params(attempt_id: int) -> dict[str, Any]:
    """The values for attempt_owner_query, as the database driver takes them (DriverStatement)."""
    return {**live_session_params(cookie_token_digest(), for_driver=True), "attempt_id": attempt_id}
