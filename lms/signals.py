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
# sender: the acting User or None; users=the Users created together (a roster import's batch).
# What follows user_saved for one person follows this for each of them, handled at once.
users_saved = _signals.signal("users-saved")

# Learning events (lms/xapi turns each into xAPI statements in the same transaction).
# sender: the agent; version=the CourseVersion, lesson=the Lesson they finished reading.
lesson_completed = _signals.signal("lesson-completed")
# sender: the agent; attempt=the Attempt just started (not a resumed one).
attempt_started = _signals.signal("attempt-started")
# sender: the agent; attempt=the Attempt just graded (submitted, or closed at its time limit).
attempt_finished = _signals.signal("attempt-finished")
# sender: the agent; attempt=their passed Attempt whose result page is being shown. Receivers
# return what the pass earned, for the page to congratulate them on (certification: the awards).
attempt_passed_shown = _signals.signal("attempt-passed-shown")
# sender: the acting User or None (issued automatically); award=the Award issued or revoked.
award_issued = _signals.signal("award-issued")
award_revoked = _signals.signal("award-revoked")

# sender: the acting User or None; tree=the parsed, validated ContentTree, report=the LoadReport
# of lms.learning.sync, keep=whether items published in the browser are kept. Sent by
# load_content after learning synced courses, quizzes, job aids and country notes, before the
# load is audited: certification syncs its programmes into the same report.
content_loaded = _signals.signal("content-loaded")
