"""The lesson section that teaches a quiz item (its `teaches` field), for the result page.

An agent who misses a question gets a link to the very section that covers it: the lesson page
gives each heading an id (lms/content/markdown.heading_anchors), and `teaches` names one of them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from lms.content.markdown import heading_anchors, parse_tokens
from lms.content.validate import TEACHES
from lms.extensions import db
from lms.learning.models import Course, CourseVersion, Lesson


@dataclass(frozen=True)
class SectionLink:
    """Where to reread: the lesson page at the section's heading."""

    url: str
    lesson: str     # the lesson's title
    section: str    # the heading's text; empty when the lesson no longer has that section


def section_links(items: Iterable[dict]) -> dict[str, SectionLink]:
    """The link for each item that names a lesson section, by item id, in one query.

    Links go to the lesson as the current version of its course has it, since that is the page
    an agent can open. An archived course, or a lesson the current version dropped, gives no
    link; a section that was renamed gives a link to the top of the lesson.
    """
    wanted = {}
    for item in items:
        found = TEACHES.match(item["teaches"]) if isinstance(item.get("teaches"), str) else None
        if found:
            wanted[item["id"]] = found.groups()
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Course.slug, Lesson.key, Lesson.title, Lesson.body)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .join(Lesson, Lesson.course_version_id == CourseVersion.id)
        .where(Course.archived_at.is_(None), Course.slug.in_({slug for slug, _, _ in wanted.values()}),
               Lesson.key.in_({key for _, key, _ in wanted.values()})))
    lessons = {(row.slug, row.key): row for row in rows}
    links: dict[str, SectionLink] = {}
    for item_id, (slug, key, anchor) in wanted.items():
        lesson = lessons.get((slug, key))
        if lesson is None:
            continue
        sections = {found: title for _, found, title in heading_anchors(parse_tokens(lesson.body))}
        links[item_id] = SectionLink(
            url=url_for("learning.lesson", slug=slug, key=key, _anchor=anchor if anchor in sections else None),
            lesson=lesson.title, section=sections.get(anchor, ""))
    return links
