"""Reading progress: which lessons an agent has finished, and where to pick up."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from lms import plain_rows, signals
from lms.accounts.models import User
from lms.clock import now
from lms.extensions import db
from lms.learning.models import CourseVersion, Lesson, LessonProgress


_COMPLETED = select(LessonProgress.course_id, LessonProgress.lesson_key).where(
    LessonProgress.user_id == bindparam("user_id"),
    LessonProgress.course_id.in_(bindparam("course_ids", expanding=True)))


def completed_keys(agent: User, course_ids: list[int]) -> dict[int, set[str]]:
    """Finished lesson ids per course, for several courses in one query (built once: the course
    list and every lesson page run it)."""
    done: dict[int, set[str]] = {cid: set() for cid in course_ids}
    for course_id, key in plain_rows.rows(_COMPLETED, {"user_id": agent.id, "course_ids": course_ids}):
        done[course_id].add(key)
    return done


def complete_lesson(agent: User, version: CourseVersion, lesson: Lesson) -> None:
    """Record that the agent has (re)read a lesson now: a recertification cycle counts rereading.

    `lesson_completed` tells the packages that follow it (certification may start an enrolment or
    issue an award; xAPI writes a statement), in this transaction.
    """
    progress = db.session.scalar(select(LessonProgress).where(
        LessonProgress.user_id == agent.id, LessonProgress.course_id == version.course_id,
        LessonProgress.lesson_key == lesson.key))
    if progress is None:
        progress = LessonProgress(user_id=agent.id, course_id=version.course_id, lesson_key=lesson.key)
        db.session.add(progress)
    progress.course_version_id = version.id
    progress.completed_at = now()
    db.session.flush()
    signals.lesson_completed.send(agent, version=version, lesson=lesson)


def next_lesson(version: CourseVersion, done: set[str]) -> Lesson | None:
    """The first lesson in order that is not finished: where "continue" takes the agent."""
    return next((lesson for lesson in version.lessons if lesson.key not in done), None)
