"""A crafted import (YAML nested 100,000 deep, a damaged or bloated ZIP) gets a clear 400, never a 500."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from lms.authoring import imports
from lms.authoring.models import Draft
from lms.extensions import db
from tests.authoring.conftest import form_token

DEEP_YAML = b"title: Deep\nquestions: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
QUIZ = b"title: A quiz\n"


def _import(author, data: bytes, name: str):
    return author.post("/authoring/import", data={"csrf_token": form_token(author, "/authoring/"),
                                                  "upload": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return out.getvalue()


def _refused(author, data: bytes, name: str) -> str:
    """The page of a refused import, after checking that nothing was kept and the next page works."""
    response = _import(author, data, name)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:300]
    assert db.session.scalars(select(Draft)).all() == []
    assert author.get("/authoring/").status_code == 200
    return page


def test_a_yaml_import_nested_100000_deep_gets_a_clear_400(app, content, author):
    page = _refused(author, DEEP_YAML, "deep-quiz.yaml")
    assert ("Nothing was imported: quizzes/deep-quiz.yaml:2: invalid YAML: "
            "the YAML nests more than 50 levels deep") in page


def test_a_zip_holding_deep_yaml_names_the_file_and_line(app, content, author):
    page = _refused(author, _zip({"quizzes/deep-quiz.yaml": DEEP_YAML}), "deep.zip")
    assert "quizzes/deep-quiz.yaml:2: invalid YAML: the YAML nests more than 50 levels deep" in page


def _damaged_crc() -> bytes:
    data = bytearray(_zip({"quizzes/a-quiz.yaml": QUIZ * 40}, zipfile.ZIP_STORED))
    data[data.index(b"title: A quiz")] ^= 0x20  # the stored bytes no longer match their CRC
    return bytes(data)


def _encrypted() -> bytes:
    data = bytearray(_zip({"quizzes/a-quiz.yaml": QUIZ}))
    for header, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        data[data.index(header) + flags_at] |= 0x1
    return bytes(data)


def _unknown_method() -> bytes:
    data = bytearray(_zip({"quizzes/a-quiz.yaml": QUIZ}))
    for header, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        data[data.index(header) + method_at] = 99  # AES, which zipfile cannot read
    return bytes(data)


@pytest.mark.parametrize(("make", "said"), [
    (_damaged_crc, "The ZIP file is damaged or uses a compression we cannot read"),
    (_unknown_method, "The ZIP file is damaged or uses a compression we cannot read"),
    (_encrypted, "quizzes/a-quiz.yaml is encrypted"),
    (lambda: b"PK\x03\x04 not really a zip", "The ZIP file is damaged"),
    (lambda: _zip({"quizzes/../../etc/passwd.yaml": QUIZ}), "a file outside its folder"),
    (lambda: _zip({"/quizzes/a-quiz.yaml": QUIZ}), "a file outside its folder"),
    (lambda: _zip({f"courses/c/lessons/{n:03}-x.md": b"# x" for n in range(imports.MAX_ZIP_FILES + 1)}),
     f"more than {imports.MAX_ZIP_FILES} files"),
])
def test_a_crafted_zip_gets_a_clear_400(app, content, author, make, said):
    assert said in _refused(author, make(), "crafted.zip")


def test_a_zip_naming_one_file_twice_is_refused(app, content, author):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("quizzes/a-quiz.yaml", QUIZ)
        archive.writestr("quizzes/a-quiz.yaml", b"title: The copy a reviewer never saw\n")
    assert "The ZIP holds quizzes/a-quiz.yaml twice" in _refused(author, out.getvalue(), "twice.zip")


def test_a_zip_bomb_is_refused_before_it_is_inflated(app, content, author, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ZIP_BYTES", 1024 * 1024)
    bomb = _zip({"quizzes/a-quiz.yaml": QUIZ + b"#" * (2 * 1024 * 1024)})
    assert len(bomb) < 10 * 1024
    assert "The ZIP expands to more than 1 MB" in _refused(author, bomb, "bomb.zip")
