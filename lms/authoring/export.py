"""Published versions back to the files of the content format, and ZIPs of those files.

Parsing what `version_files` returns gives the version's own content hash: the
course.yaml, lesson front matter and quiz/programme mappings are rebuilt from the
stored fields (the hash covers parsed data, not layout), lesson bodies and images
are stored byte for byte.
"""
from __future__ import annotations

import io
import posixpath
import zipfile
from typing import Any

import yaml
from sqlalchemy import select

from lms.checked_yaml.yaml_lines import LineDict, LineList
from lms.extensions import db
from lms.learning.models import Course, CourseAsset, CourseVersion, Quiz, QuizVersion


class _Dumper(yaml.SafeDumper):
    """Block-style YAML that keeps multi-line text readable (`|` blocks where YAML allows them)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style by itself when a block cannot hold the text
    # (trailing spaces, say), so the value always reads back the same.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(LineDict, _Dumper.represent_dict)
_Dumper.add_representer(LineList, _Dumper.represent_list)


def dump_yaml(data: Any) -> str:
    """YAML text for `data`, keys in the order given."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


def lesson_text(front_matter: dict, body: str) -> str:
    """A lesson file: front matter between '---' lines, then the body exactly as stored."""
    return f"---\n{dump_yaml(front_matter)}---\n{body}"


def lesson_file_name(lesson) -> str:
    """The lesson's file name; rows loaded before names were kept get one made from the id."""
    return lesson.file or f"{lesson.position:02d}-{lesson.key}.md"


def course_files(version: CourseVersion) -> dict[str, str | bytes]:
    """course.yaml, every lesson file and every image of a published course version."""
    slug = version.course.slug
    folder = f"courses/{slug}"
    course: dict[str, Any] = {
        "title": version.title, "summary": version.summary, "audience": version.audience,
        "estimated_minutes": version.estimated_minutes, "phases": list(version.phases),
        "lessons": [lesson_file_name(lesson) for lesson in version.lessons],
    }
    if version.quiz_slug is not None:
        course["quiz"] = version.quiz_slug
    course["key_points"] = list(version.key_points)
    files: dict[str, str | bytes] = {f"{folder}/course.yaml": dump_yaml(course)}
    for lesson in version.lessons:
        front = {"id": lesson.key, "title": lesson.title, "phase": lesson.phase, "minutes": lesson.minutes,
                 "references": list(lesson.references), "key_points": list(lesson.key_points)}
        files[f"{folder}/{lesson_file_name(lesson)}"] = lesson_text(front, lesson.body)
    for asset in db.session.scalars(select(CourseAsset).where(CourseAsset.course_version_id == version.id)):
        files[posixpath.normpath(f"{folder}/{asset.path}")] = asset.data
    return files


def quiz_files(version: QuizVersion) -> dict[str, str | bytes]:
    """The quiz file of a published quiz version."""
    return {f"quizzes/{version.quiz.slug}.yaml": dump_yaml(version.spec)}


def programme_files(version) -> dict[str, str | bytes]:
    """The programme file of a published programme version."""
    return {f"programmes/{version.programme.slug}.yaml": dump_yaml(version.spec)}


def version_files(kind: str, version) -> dict[str, str | bytes]:
    """The files of a published course, quiz or programme version."""
    return {"course": course_files, "quiz": quiz_files, "programme": programme_files}[kind](version)


def item_models(kind: str) -> tuple[type, type]:
    """(item model, version model) for a kind of content."""
    from lms.certification.models import Programme, ProgrammeVersion

    return {"course": (Course, CourseVersion), "quiz": (Quiz, QuizVersion),
            "programme": (Programme, ProgrammeVersion)}[kind]


def published_item(kind: str, slug: str):
    """The Course, Quiz or Programme row with that slug (archived or not), or None."""
    model, _ = item_models(kind)
    return db.session.scalar(select(model).where(model.slug == slug))


def versions_of(kind: str, item) -> list:
    """Every published version of an item, newest first."""
    _, version_model = item_models(kind)
    parent = {"course": "course_id", "quiz": "quiz_id", "programme": "programme_id"}[kind]
    return list(db.session.scalars(select(version_model).where(getattr(version_model, parent) == item.id)
                                   .order_by(version_model.created_at.desc(), version_model.id.desc())))


def version_by_hash(kind: str, item, digest: str):
    """The version of `item` whose content hash starts with `digest` (12+ characters), or None."""
    if len(digest) < 12:
        return None
    return next((v for v in versions_of(kind, item) if v.content_hash.startswith(digest)), None)


def zip_files(files: dict[str, str | bytes]) -> bytes:
    """A ZIP of the files, paths as given (relative to a content root)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            data = files[path]
            archive.writestr(path, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()
