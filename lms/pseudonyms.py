"""The stable pseudonym a person is shown under once their personal data is erased.

"P-" and the account's id in hex, upper case, at least four digits ("P-002A"): unique,
stable, and revealing nothing the audit log's leaves do not already hold (their `actor_id`).
Erasure (the GDPR issue) names the account "Agent P-002A" in every page and document; the
audit log shows "erased person #P-002A" where the event's personal fields were deleted.
"""
from __future__ import annotations


def pseudonym(user_id: int) -> str:
    return f"P-{user_id:04X}"
