"""Reading progress: which lessons an agent has finished, and where to pick up."""
from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.learning.models import CourseVersion, Lesson, LessonProgress


def completed_keys(agent: User, course_ids: list[int]) -> dict[int, set[str]]:
    """Finished lesson ids per course, for several courses in one query."""
    done: dict[int, set[str]] = {cid: set() for cid in course_ids}
    rows = db.session.execute(select(LessonProgress.course_id, LessonProgress.lesson_key).where(
        LessonProgress.user_id == agent.id, LessonProgress.course_id.in_(course_ids)))
    for course_id, key in rows:
        done[course_id].add(key)
    return done


def complete_lesson(agent: User, version: CourseVersion, lesson: Lesson) -> bool:
    """Record that the agent finished a lesson (once); True when it is new."""
    exists = db.session.scalar(select(LessonProgress.id).where(
        LessonProgress.user_id == agent.id, LessonProgress.course_id == version.course_id,
        LessonProgress.lesson_key == lesson.key))
    if exists:
        return False
    db.session.add(LessonProgress(user_id=agent.id, course_id=version.course_id, lesson_key=lesson.key,
                                  course_version_id=version.id))
    db.session.flush()
    return True


def next_lesson(version: CourseVersion, done: set[str]) -> Lesson | None:
    """The first lesson in order that is not finished: where "continue" takes the agent."""
    return next((lesson for lesson in version.lessons if lesson.key not in done), None)
