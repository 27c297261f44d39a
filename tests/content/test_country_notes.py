"""Country notes as content: read from courses/_country-notes/, checked like lessons."""
from __future__ import annotations

from pathlib import Path

from lms.config import PROJECT_ROOT
from lms.content.country_notes import parse_country_notes
from tests.content.tree import copy_valid, problems

NOTE = """---
title: Germany
references: ["§201 StGB", "Art. 6(1)(a)"]
lessons: ["recording-calls/choosing-the-basis"]
---
## Recording needs consent (§201 StGB, Art. 6(1)(a))

Ask before you record.
"""


def _write(root: Path, name: str, text: str) -> None:
    folder = root / "courses" / "_country-notes"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_a_valid_note_is_read_by_country_and_is_no_course(tmp_path):
    root = copy_valid(tmp_path)
    _write(root, "de.md", NOTE)
    assert problems(root) == []
    notes, read_problems = parse_country_notes(root)
    assert read_problems == []
    note = notes["DE"]
    assert (note.country, note.title) == ("DE", "Germany")
    assert note.lessons == ("recording-calls/choosing-the-basis",)
    assert note.body.lstrip().startswith("## Recording needs consent")


def test_the_file_name_must_be_a_country_code(tmp_path):
    root = copy_valid(tmp_path)
    _write(root, "germany.md", NOTE)
    assert any("courses/_country-notes/germany.md: country note file name 'germany' must be a "
               "two-letter" in p for p in problems(root))


def test_a_note_names_only_lessons_that_exist(tmp_path):
    root = copy_valid(tmp_path)
    _write(root, "de.md", NOTE.replace("recording-calls/choosing-the-basis", "recording-calls/no-such"))
    assert "courses/_country-notes/de.md:4: 'lessons' names 'recording-calls/no-such', but there is " \
           "no lesson 'no-such' in a course 'recording-calls'" in problems(root)


def test_every_section_cites_and_fields_are_checked(tmp_path):
    root = copy_valid(tmp_path)
    _write(root, "de.md", NOTE.replace("(§201 StGB, Art. 6(1)(a))", "").replace("title: Germany\n", "")
           + "\n<script>alert(1)</script>\n")
    found = problems(root)
    assert "courses/_country-notes/de.md:2: missing required field 'title'" in found
    assert any("section 'Recording needs consent' cites no article" in p for p in found)
    assert any("raw HTML is not allowed" in p for p in found)


def test_shipped_notes_cover_the_partner_countries_and_link_real_lessons():
    notes, read_problems = parse_country_notes(PROJECT_ROOT)
    assert read_problems == []
    # Germany's consent rule, the do-not-call registers and the partner sites outside the EEA.
    assert {"DE", "FR", "IT", "ES", "MA", "IN", "PH", "ZA", "CO"} <= set(notes)
    assert "§201 StGB" in notes["DE"].body and "Bloctel" in notes["FR"].body
    assert "Law 09-08" in notes["MA"].body and "Law 1581" in notes["CO"].body
    assert not [p for p in problems(PROJECT_ROOT) if "_country-notes" in p]
