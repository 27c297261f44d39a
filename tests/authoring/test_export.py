"""Export gives the exact files: parsing them gives the published version's content hash."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.authoring import drafts
from lms.authoring.export import version_files
from lms.authoring.models import Draft
from lms.certification.models import Programme
from lms.content import check_tree, parse_tree
from lms.extensions import db
from lms.learning.models import Course, CourseVersion, Quiz
from lms.learning.sync import load_content
from tests.authoring.conftest import FIXTURE, REPO, form_token


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


@pytest.mark.parametrize("source", [REPO, FIXTURE], ids=["repository", "fixture-with-image"])
def test_every_course_quiz_and_programme_exports_to_its_own_hash(app, source, tmp_path):
    load_content(source)
    exported = 0
    for kind, model in (("course", Course), ("quiz", Quiz), ("programme", Programme)):
        for item in db.session.scalars(select(model)):
            root = tmp_path / f"{kind}-{item.slug}"
            (root / "courses").mkdir(parents=True)
            _write(root, version_files(kind, item.current_version))
            tree, problems = parse_tree(root)
            assert problems == []
            parsed = {"course": tree.courses, "quiz": tree.quizzes, "programme": tree.programmes}[kind][item.slug]
            assert parsed.content_hash == item.current_version.content_hash, f"{kind} {item.slug}"
            exported += 1
    assert exported >= (13 if source == REPO else 3)


def test_export_keeps_images_byte_for_byte(app, content):
    version = db.session.scalar(select(Course).where(Course.slug == "recording-calls")).current_version
    files = version_files("course", version)
    image = (FIXTURE / "courses" / "recording-calls" / "img" / "headset.png").read_bytes()
    assert files["courses/recording-calls/img/headset.png"] == image
    assert files["courses/recording-calls/course.yaml"].startswith("title: Recording calls lawfully\n")


def test_cli_export_writes_a_tree_that_passes_content_check(app, content, runner, tmp_path):
    result = runner.invoke(args=["lms", "content", "export", "recording-calls", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Exported" in result.output
    assert (tmp_path / "courses/recording-calls/02-telling-callers.md").is_file()
    assert (tmp_path / "quizzes/recording-calls.yaml").is_file()
    assert check_tree(tmp_path) == []
    tree, _ = parse_tree(tmp_path)
    course = db.session.scalar(select(Course).where(Course.slug == "recording-calls"))
    assert tree.courses["recording-calls"].content_hash == course.current_version.content_hash
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "content.exported")) is not None


def test_cli_export_of_an_unknown_slug_fails(app, runner, tmp_path):
    result = runner.invoke(args=["lms", "content", "export", "nope", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "Nothing published" in result.output


def test_zip_download_then_import_then_publish_gives_the_same_hash(app, content, author):
    response = author.get("/authoring/course/recording-calls/export.zip")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "courses/recording-calls/img/headset.png" in names
    before = db.session.scalar(select(Course).where(Course.slug == "recording-calls")).current_version.content_hash

    token = form_token(author, "/authoring/")
    imported = author.post("/authoring/import", data={
        "csrf_token": token, "upload": (io.BytesIO(response.data), "recording-calls.zip")},
        content_type="multipart/form-data")
    assert imported.status_code == 302 and imported.location.endswith("/authoring/course/recording-calls/publish")
    page = author.get(imported.location).get_data(as_text=True)
    assert "finds no problems" in page
    draft = drafts.find_draft("course", "recording-calls")
    assert drafts.check_draft(draft) == []
    version = drafts.publish(draft, None)
    db.session.commit()
    assert version.content_hash == before
    assert db.session.scalars(select(CourseVersion)).all() == [version]  # nothing new was created


def test_import_of_a_broken_yaml_shows_file_line_errors(app, content, author):
    token = form_token(author, "/authoring/")
    text = b"title: Broken\npass_mark: 300\n"
    response = author.post("/authoring/import", data={
        "csrf_token": token, "upload": (io.BytesIO(text), "broken-quiz.yaml")},
        content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "quizzes/broken-quiz.yaml:2: " in page
    assert db.session.scalar(select(Draft).where(Draft.slug == "broken-quiz")).kind == "quiz"


def test_import_refuses_paths_outside_one_item(app, content, author):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("courses/a/course.yaml", "title: A\n")
        archive.writestr("quizzes/b.yaml", "title: B\n")
    token = form_token(author, "/authoring/")
    page = author.post("/authoring/import", data={"csrf_token": token, "upload": (io.BytesIO(buffer.getvalue()), "x.zip")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert db.session.scalars(select(Draft)).all() == []
