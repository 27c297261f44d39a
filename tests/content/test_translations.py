"""Translations beside their sources (lms/content/translations.py): read, checked, stale, applied."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lms.content import parse_tree
from lms.content.translations import translated_quiz_spec
from lms.content.validate import check_content

from tests.content.tree import copy_valid, edit, problems

QUIZ = "quizzes/recording-calls.yaml"


def _source_hashes(root: Path) -> tuple[str, str]:
    tree, _ = parse_tree(root)
    return tree.courses["recording-calls"].content_hash, tree.quizzes["recording-calls"].content_hash


def _french(value: str) -> str:
    return f"FR {value}"


def _item_text(item: dict[str, Any]) -> dict[str, Any]:
    """Every text field of a source item, 'translated' (prefixed), keyed as the format wants."""
    mine: dict[str, Any] = {key: _french(item[key]) for key in
                            ("prompt", "explanation", "feedback_true", "feedback_false", "title", "scenario")
                            if item.get(key)}
    if item.get("options"):
        mine["options"] = {o["id"]: {k: _french(o[k]) for k in ("text", "feedback") if o.get(k)}
                           for o in item["options"]}
    if item.get("nodes"):
        mine["nodes"] = {n["id"]: {"caller": _french(n["caller"]),
                                   **({"choices": {c["id"]: {k: _french(c[k]) for k in ("text", "feedback", "critical")
                                                             if c.get(k)} for c in n["choices"]}}
                                      if n.get("choices") else {})}
                         for n in item["nodes"]}
    return mine


def _write_quiz_translation(root: Path, translation_of: str, **changes: Any) -> dict:
    source = yaml.safe_load((root / QUIZ).read_text(encoding="utf-8"))
    data = {"translation_of": translation_of, "title": _french(source["title"]),
            "description": _french(source["description"]),
            "questions": {item["id"]: _item_text(item) for item in source["questions"]}, **changes}
    (root / "quizzes/recording-calls.fr.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return data


def _write_course_translation(root: Path, translation_of: str) -> None:
    folder = root / "courses/recording-calls"
    source = yaml.safe_load((folder / "course.yaml").read_text(encoding="utf-8"))
    (folder / "course.fr.yaml").write_text(yaml.safe_dump({
        "translation_of": translation_of, "title": "Enregistrer les appels", "summary": "Résumé",
        "audience": "Les conseillers", "key_points": [_french(p) for p in source["key_points"]],
    }, allow_unicode=True), encoding="utf-8")
    for lesson in source["lessons"]:
        text = (folder / lesson).read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        points = yaml.safe_load(front)["key_points"]
        translated_body = "\n".join(line.replace("# ", "# FR ", 1) if line.startswith("#") else line
                                    for line in body.split("\n"))
        (folder / lesson.replace(".md", ".fr.md")).write_text(
            "---\n" + yaml.safe_dump({"title": "Leçon", "key_points": [_french(p) for p in points]},
                                     allow_unicode=True)
            + "---\n" + translated_body, encoding="utf-8")


def test_a_complete_translation_is_read_beside_its_source_and_passes(tmp_path):
    root = copy_valid(tmp_path)
    course_hash, quiz_hash = _source_hashes(root)
    _write_quiz_translation(root, quiz_hash)
    _write_course_translation(root, course_hash)

    assert problems(root) == []
    tree, _ = parse_tree(root)
    # The translation files are not read as sources of their own.
    assert set(tree.quizzes) == {"recording-calls"} and set(tree.courses) == {"recording-calls"}
    assert set(tree.translations) == {("quiz", "recording-calls", "fr"), ("course", "recording-calls", "fr")}
    course = tree.translations["course", "recording-calls", "fr"]
    assert set(course.text["lessons"]) == {lesson.id for lesson in tree.courses["recording-calls"].lessons}


def test_a_translation_changes_the_words_never_the_answer_key(tmp_path):
    root = copy_valid(tmp_path)
    _, quiz_hash = _source_hashes(root)
    _write_quiz_translation(root, quiz_hash)
    tree, _ = parse_tree(root)
    source = dict(tree.quizzes["recording-calls"].source)

    spec = translated_quiz_spec(source, tree.translations["quiz", "recording-calls", "fr"].text)

    assert spec["title"] == "FR Recording calls"
    for mine, theirs in zip(spec["questions"], source["questions"]):
        assert (mine["id"], mine.get("correct"), mine.get("points"), mine["type"]) == \
               (theirs["id"], theirs.get("correct"), theirs.get("points"), theirs["type"])
        if "prompt" in theirs:
            assert mine["prompt"] == _french(theirs["prompt"])
        for node, source_node in zip(mine.get("nodes", []), theirs.get("nodes", [])):
            assert node["caller"] == _french(source_node["caller"])
            assert [(c["id"], c["score"], c["next"]) for c in node.get("choices", [])] == \
                   [(c["id"], c["score"], c["next"]) for c in source_node.get("choices", [])]
    assert source["questions"][0]["prompt"].startswith('"I want')  # the source is left as it was


def test_a_current_translation_must_translate_everything_and_nothing_else(tmp_path):
    root = copy_valid(tmp_path)
    _, quiz_hash = _source_hashes(root)
    data = _write_quiz_translation(root, quiz_hash)
    del data["questions"]["verbal-sar"]["explanation"]
    data["questions"]["verbal-sar"]["options"]["z"] = {"text": "Option inventée"}
    data["questions"]["invented-item"] = {"prompt": "?"}
    del data["questions"]["what-to-say"]
    (root / "quizzes/recording-calls.fr.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    found = "\n".join(problems(root))
    assert "quizzes/recording-calls.fr.yaml:" in found
    assert "question 'verbal-sar': 'explanation' is not translated" in found
    assert "question 'verbal-sar': option 'z' is not in the source" in found
    assert "question 'invented-item' is not in the source quiz" in found
    assert "question 'what-to-say' is not translated" in found


def test_a_lesson_keeps_its_sources_headings_and_key_points(tmp_path):
    root = copy_valid(tmp_path)
    course_hash, _ = _source_hashes(root)
    _write_course_translation(root, course_hash)
    lesson = root / "courses/recording-calls/01-choosing-the-basis.fr.md"
    text = lesson.read_text(encoding="utf-8")
    first_heading = next(line for line in text.split("\n") if line.startswith("## "))
    lesson.write_text(text.replace(first_heading, "### " + first_heading[3:], 1), encoding="utf-8")
    (root / "courses/recording-calls/02-telling-callers.fr.md").unlink()

    found = problems(root)
    assert any(p.startswith("courses/recording-calls/01-choosing-the-basis.fr.md:")
               and "heading 1 is an h3, the source's is an h2" in p for p in found), found
    assert any("lesson 'telling-callers' (02-telling-callers.md) has no translation: add "
               "02-telling-callers.fr.md beside it" in p for p in found), found


def test_a_stale_translation_is_a_warning_that_names_the_new_hash(tmp_path):
    root = copy_valid(tmp_path)
    _, quiz_hash = _source_hashes(root)
    data = _write_quiz_translation(root, quiz_hash)
    del data["questions"]["verbal-sar"]  # incomplete, but stale: not a problem, the source moved on
    (root / "quizzes/recording-calls.fr.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    edit(root, QUIZ, "title: Recording calls", "title: Recording calls, revised")
    _, new_hash = _source_hashes(root)

    found, warnings = check_content(root)
    assert found == []
    stale = [str(w) for w in warnings if "stale" in str(w)]
    assert stale == [f"quizzes/recording-calls.fr.yaml:1: stale: translated from {quiz_hash[:12]}, but the "
                     f"source is now {new_hash[:12]} (quizzes/recording-calls.yaml); update the translation, "
                     f"then set translation_of: {new_hash}"]


def test_translations_of_nothing_and_badly_named_files_are_problems(tmp_path):
    root = copy_valid(tmp_path)
    (root / "quizzes/no-such-quiz.fr.yaml").write_text(f"translation_of: {'0' * 64}\ntitle: X\nquestions: {{}}\n",
                                                        encoding="utf-8")
    (root / "quizzes/recording-calls.french.yaml").write_text("title: X\n", encoding="utf-8")
    (root / "courses/_job-aids/caller-asks-for-data.fr.md").write_text(
        "---\ntranslation_of: abc\ntitle: Demande\nif_stale: sometimes\n---\nCorps\n", encoding="utf-8")

    found = problems(root)
    assert "quizzes/no-such-quiz.fr.yaml: translates quiz 'no-such-quiz', which does not exist" in found
    assert any(p.startswith("quizzes/recording-calls.french.yaml: 'recording-calls.french.yaml' is not a "
                            "source or a translation") for p in found), found
    assert any(p.startswith("courses/_job-aids/caller-asks-for-data.fr.md:2: 'translation_of' must be the "
                            "64-character content hash") for p in found), found
    assert any(p.startswith("courses/_job-aids/caller-asks-for-data.fr.md:4: 'if_stale'") for p in found), found


def test_the_translations_command_prints_the_hash_to_translate_from_and_each_state(runner, tmp_path):
    root = copy_valid(tmp_path)
    course_hash, quiz_hash = _source_hashes(root)
    _write_quiz_translation(root, quiz_hash)
    _write_course_translation(root, "f" * 64)  # made from another source: stale

    output = runner.invoke(args=["lms", "content", "translations", str(root)]).output

    lines = {line.split()[0] + " " + line.split()[1]: line for line in output.splitlines()}
    assert lines["quiz recording-calls"].split()[2:] == [quiz_hash, "fr", "current"]
    assert lines["course recording-calls"].split()[2:] == [course_hash, "fr", "stale"]
    assert lines["job_aid caller-asks-for-data"].endswith("no translations")
