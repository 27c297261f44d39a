"""Domain events that other packages react to, without the sender importing them (blinker).

A sender states what happened; each subscriber owns what follows from it. Certification, for
example, enrols a person in their organisation's programmes when `user_saved` says they were
created or changed, however that happened (the admin pages, `lms create-user`, and the coming
SCIM and CSV imports alike). Subscribers run in the sender's transaction: they flush, never commit.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the acting User or None; user=the User created, changed, deactivated or reactivated.
user_saved = _signals.signal("user-saved")
# sender: the acting User or None (issued automatically); award=the Award issued or revoked.
award_issued = _signals.signal("award-issued")
award_revoked = _signals.signal("award-revoked")
