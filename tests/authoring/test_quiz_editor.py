"""The quiz editor: quiz files as editable data and back, and the editor's pages."""
from __future__ import annotations

import difflib
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.assessment.models import Attempt
from lms.audit.models import AuditEvent
from lms.authoring.models import Draft
from lms.authoring.quiz_yaml import content_hash, dump_quiz, load_quiz, update_quiz_text
from lms.content import parse_tree
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
# The quizzes themselves: `<slug>.<language>.yaml` beside them are translations, not quizzes.
REPO_QUIZZES = sorted(path for path in (ROOT / "quizzes").glob("*.yaml") if "." not in path.stem)


def _parsed_hash(tmp_path: Path, slug: str, text: str) -> str:
    """The content hash `content load` gives a quiz file with this text."""
    root = tmp_path / slug
    (root / "courses").mkdir(parents=True)
    (root / "quizzes").mkdir()
    (root / "quizzes" / f"{slug}.yaml").write_text(text, encoding="utf-8")
    tree, problems = parse_tree(root)
    assert problems == []
    return tree.quizzes[slug].content_hash


# -- the file format, both ways ---------------------------------------------------------------

@pytest.mark.parametrize("path", REPO_QUIZZES, ids=lambda p: p.stem)
def test_every_repository_quiz_round_trips_to_the_same_content_hash(tmp_path, path):
    text = path.read_text(encoding="utf-8")
    original = _parsed_hash(tmp_path, path.stem, text)
    data = load_quiz(text)
    assert content_hash(data) == original
    written = dump_quiz(data)
    assert _parsed_hash(tmp_path / "dumped", path.stem, written) == original
    # Writing what was read, unchanged, keeps the file as it is, comments and all.
    assert update_quiz_text(text, data) == text
    # And the documented layout is stable: writing it again changes nothing.
    assert dump_quiz(load_quiz(written)) == written


def test_layout_follows_the_documented_order_and_styles():
    data = {
        "questions": [{"references": ["Art. 15"], "explanation": "Line one (Art. 15).\nLine two.\n",
                       "correct": True, "prompt": "Ça va? Ünïcödé “quotes”", "difficulty": "easy",
                       "phase": "during", "type": "true_false", "id": "tf",
                       "feedback_false": "No.", "feedback_true": "Yes."}],
        "draw": [{"count": 1, "phase": "during"}], "review": "never",
        "attempts": {"cooldown_minutes": 0, "max": None}, "time_limit_minutes": None,
        "pass_mark": 80, "title": "Über quiz",
    }
    text = dump_quiz(data)
    assert text == (
        "title: Über quiz\n"
        "pass_mark: 80\n"
        "time_limit_minutes: null\n"
        "attempts: {max: null, cooldown_minutes: 0}\n"
        "review: never\n"
        "draw:\n"
        "  - {phase: during, count: 1}\n"
        "questions:\n"
        "\n"
        "  - id: tf\n"
        "    type: true_false\n"
        "    phase: during\n"
        "    difficulty: easy\n"
        "    prompt: Ça va? Ünïcödé “quotes”\n"
        "    correct: true\n"
        "    feedback_true: Yes.\n"
        "    feedback_false: No.\n"
        "    explanation: |\n"
        "      Line one (Art. 15).\n"
        "      Line two.\n"
        '    references: ["Art. 15"]\n'
    )
    assert load_quiz(text) == data


@pytest.mark.parametrize("value", [
    "plain", "ends with newline\n", "two\n\nblank lines kept\n\n\n", "  leading spaces\nmore",
    "trailing space \nline", "tab\there", "quote ' and \" and : colon # hash", "yes", "123", "null",
    "- dash", "x" * 300, "control \x07 char", "", "Art. 5(1)(f) " * 20 + "\n",
])
def test_any_text_reads_back_exactly(value):
    data = {"title": value, "questions": [{"id": "q", "prompt": value, "options": [{"text": value}]}]}
    assert load_quiz(dump_quiz(data)) == data


def test_editing_one_question_changes_only_that_question():
    text = (ROOT / "quizzes" / "call-security.yaml").read_text(encoding="utf-8")
    data = load_quiz(text)
    data["questions"][3]["prompt"] = "A new prompt that the trainer wrote."
    new_text = update_quiz_text(text, data)
    old_lines, new_lines = text.split("\n"), new_text.split("\n")
    first = old_lines.index("  - id: sec-before-06")
    after = old_lines.index("  - id: sec-before-05")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    edits = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    assert edits and all(first <= i1 and i2 <= after for _, i1, i2, _, _ in edits)
    assert "    prompt: A new prompt that the trainer wrote." in new_lines
    assert load_quiz(new_text) == data
    # The questions around it keep their text, comments included.
    assert new_lines[:first] == old_lines[:first]
    assert new_lines[-(len(old_lines) - after):] == old_lines[after:]


def test_settings_edit_keeps_the_questions_as_written():
    text = (ROOT / "quizzes" / "gdpr-essentials.yaml").read_text(encoding="utf-8")
    data = load_quiz(text)
    data["pass_mark"] = 70
    new_text = update_quiz_text(text, data)
    assert new_text.split("questions:\n", 1)[1] == text.split("questions:\n", 1)[1]
    assert "pass_mark: 70\n" in new_text and load_quiz(new_text) == data


def test_moving_and_deleting_questions_keeps_their_text():
    text = (ROOT / "quizzes" / "recording-calls.yaml").read_text(encoding="utf-8")
    data = load_quiz(text)
    first, second = data["questions"][0], data["questions"][1]
    data["questions"][0], data["questions"][1] = second, first
    del data["questions"][-1]
    new_text = update_quiz_text(text, data)
    assert load_quiz(new_text) == data
    assert len(new_text) < len(text)
    assert new_text.index(f"- id: {second['id']}") < new_text.index(f"- id: {first['id']}")


def test_a_copy_of_a_repository_file_loads_through_the_content_loader(tmp_path):
    source = ROOT / "quizzes" / "handling-requests.yaml"
    root = tmp_path / "content"
    (root / "courses").mkdir(parents=True)
    (root / "quizzes").mkdir()
    shutil.copy(source, root / "quizzes" / source.name)
    data = load_quiz(source.read_text(encoding="utf-8"))
    data["questions"][0]["difficulty"] = "hard"
    (root / "quizzes" / source.name).write_text(
        update_quiz_text(source.read_text(encoding="utf-8"), data), encoding="utf-8")
    tree, problems = parse_tree(root)
    assert problems == [] and tree.quizzes["handling-requests"].questions[0].difficulty == "hard"


# -- the editor's pages ---------------------------------------------------------------------------

FIXTURE = ROOT / "tests" / "content" / "fixtures" / "valid"
QUIZ_PATH = "quizzes/recording-calls.yaml"
BASE = "/authoring/quizzes/recording-calls"


class _Fields(HTMLParser):
    """The fields of every form on a page, as a browser would submit them (buttons left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._select_first: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append([])
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1].append((a["name"], a.get("value", "y" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.forms[-1].append((a["name"], ""))
        elif tag == "select":
            self._select, self._select_first = a["name"], None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                self.forms[-1].append((self._select, a.get("value", "")))
                self._select = None

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.forms[-1].append((self._select, self._select_first or ""))
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, value = self.forms[-1][-1]
            # A browser drops one line break right after <textarea>.
            if not value:
                data = data.removeprefix("\r\n") if data.startswith("\r\n") else data.removeprefix("\n")
            self.forms[-1][-1] = (name, value + data)


def form_data(html: str, marker: str) -> dict[str, str]:
    """What the first form with a field named `marker` submits."""
    parser = _Fields()
    parser.feed(html)
    form = next(f for f in parser.forms if any(name == marker for name, _ in f))
    return dict(form)


@pytest.fixture
def editor(app, login_as):
    """A signed-in trainer, with the fixture quiz published (no draft yet)."""
    person = factories.user(Role.TRAINER)
    load_content(FIXTURE)
    db.session.commit()
    login_as(person)
    return person


def _draft_data() -> dict:
    db.session.expire_all()
    draft = db.session.scalar(select(Draft).where(Draft.slug == "recording-calls"))
    return load_quiz(draft.files[QUIZ_PATH])


def test_the_editor_offers_every_registered_type_and_setting():
    from lms.question_types import REGISTRY
    from lms.authoring.quiz_forms import REVIEW_CHOICES, SCORING_CHOICES, type_choices
    from lms.content.model import MULTIPLE_RESPONSE_SCORING, REVIEW_MODES

    assert [name for name, _ in type_choices()] == list(REGISTRY)
    assert [c for c, _ in REVIEW_CHOICES] == list(REVIEW_MODES)
    assert [c for c, _ in SCORING_CHOICES] == list(MULTIPLE_RESPONSE_SCORING)


def test_pages_only_read_until_the_first_save(client, editor):
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    page = client.get(BASE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for item_id in ("verbal-sar", "what-to-say", "basis-first", "order-of-steps", "sim-impostor"):
        assert f'id="question-{item_id}"' in html
    assert client.get(f"{BASE}/questions/verbal-sar").status_code == 200
    assert client.get(f"{BASE}/simulations/sim-impostor").status_code == 200
    assert client.get(f"{BASE}/simulations/sim-impostor/nodes/n2").status_code == 200
    assert client.get(f"{BASE}/questions/new/ordering").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_saving_a_question_changes_only_that_question(client, editor):
    before = load_quiz(_published_text())
    data = form_data(client.get(f"{BASE}/questions/verbal-sar").get_data(as_text=True), "prompt")
    assert data["revision"] == "0" and data["options-1-correct"] == "y"
    data["prompt"] = "The caller says: “give me everything”. Straße, ça va."
    response = client.post(f"{BASE}/questions/verbal-sar", data=data)
    assert response.status_code == 302
    after = _draft_data()
    assert after["questions"][0]["prompt"] == data["prompt"]
    assert after["questions"][0]["options"] == before["questions"][0]["options"]
    assert after["questions"][1:] == before["questions"][1:]
    assert {k: v for k, v in after.items() if k != "questions"} == \
        {k: v for k, v in before.items() if k != "questions"}


def _published_text() -> str:
    from lms.authoring.export import published_item, version_files

    return version_files("quiz", published_item("quiz", "recording-calls").current_version)[QUIZ_PATH]


def test_a_form_with_errors_keeps_everything_typed_and_points_at_the_field(client, editor):
    data = form_data(client.get(f"{BASE}/questions/verbal-sar").get_data(as_text=True), "prompt")
    data.update({"prompt": "Typed <b>prompt</b> kept", "explanation": "No citation here",
                 "options-0-text": "Typed option text", "options-1-correct": "", "id": "Bad Id"})
    response = client.post(f"{BASE}/questions/verbal-sar", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Typed &lt;b&gt;prompt&lt;/b&gt; kept" in html and "Typed option text" in html
    assert "No citation here" in html
    assert 'href="#explanation"' in html and 'href="#id"' in html and 'href="#options-0-correct"' in html
    # The one error summary (_macros/forms.html) names a row of a list by the list and its number.
    assert '<a href="#options-0-correct">Option 1, ' in html
    assert "Nothing was saved yet. Please correct the highlighted fields:" in html
    assert '<textarea aria-describedby="explanation-help explanation-error" aria-invalid="true" ' \
           'id="explanation"' in html
    assert "Tick exactly one option as correct." in html
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_a_stale_save_is_a_conflict_that_overwrites_nothing(app, client, editor):
    page = f"{BASE}/questions/basis-first"
    stale = form_data(client.get(page).get_data(as_text=True), "prompt")
    other_trainer = factories.user(Role.TRAINER, name="Other Trainer")
    db.session.commit()
    other = app.test_client()
    login(other, other_trainer.email, factories.PASSWORD)
    first = dict(form_data(other.get(page).get_data(as_text=True), "prompt"), prompt="Saved first by another trainer.")
    assert other.post(page, data=first).status_code == 302
    stale["prompt"] = "Typed second, on the old revision."
    response = client.post(page, data=stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Other Trainer saved this draft" in html and "Nothing was overwritten" in html
    assert "Saved first by another trainer." in html           # what changed, in the diff
    assert "Typed second, on the old revision." in html        # what they typed, still in the form
    assert _draft_data()["questions"][2]["prompt"] == "Saved first by another trainer."
    # Knowing what changed, saving again (now on the current revision) is deliberate and lands.
    again = form_data(html, "prompt")
    assert client.post(page, data=again).status_code == 302
    assert _draft_data()["questions"][2]["prompt"] == "Typed second, on the old revision."


def test_adding_a_question_of_each_form_type(client, editor):
    page = f"{BASE}/questions/new/true_false"
    data = form_data(client.get(page).get_data(as_text=True), "prompt")
    data.update({"id": "new-tf", "phase": "after", "difficulty": "easy", "prompt": "Callers may ask twice.",
                 "correct": "true", "feedback_true": "Yes.", "feedback_false": "No.",
                 "explanation": "Art. 12(5) allows repeated requests.", "references": "Art. 12(5)"})
    assert client.post(page, data=data).status_code == 302
    page = f"{BASE}/questions/new/ordering"
    data = form_data(client.get(page).get_data(as_text=True), "prompt")
    data.update({"id": "new-order", "phase": "after", "difficulty": "hard", "prompt": "Order these.",
                 "options-0-id": "one", "options-0-text": "First", "options-0-feedback": "1st", "options-0-position": "2",
                 "options-1-id": "two", "options-1-text": "Second", "options-1-feedback": "2nd", "options-1-position": "1",
                 "explanation": "Art. 5(2) accountability.", "references": "Art. 5(2)\nEDPB Guidelines 01/2022"})
    assert client.post(page, data=data).status_code == 302
    added = {q["id"]: q for q in _draft_data()["questions"]}
    assert added["new-tf"]["correct"] is True
    assert added["new-order"]["correct"] == ["two", "one"]
    assert added["new-order"]["references"] == ["Art. 5(2)", "EDPB Guidelines 01/2022"]
    assert "points" not in added["new-order"]


def test_moving_and_deleting_questions(client, editor):
    html = client.get(BASE).get_data(as_text=True)
    token = form_data(html, "revision")
    assert client.post(f"{BASE}/questions/what-to-say/move", data={**token, "direction": "up"}).status_code == 302
    assert [q["id"] for q in _draft_data()["questions"]][:2] == ["what-to-say", "verbal-sar"]
    token = form_data(client.get(BASE).get_data(as_text=True), "revision")
    assert client.post(f"{BASE}/questions/basis-first/delete", data=token).status_code == 302
    assert "basis-first" not in [q["id"] for q in _draft_data()["questions"]]
    # A button from a page opened before those saves is stale: nothing happens.
    assert client.post(f"{BASE}/questions/verbal-sar/delete", data={**token, "revision": "1"}).status_code == 302
    assert "verbal-sar" in [q["id"] for q in _draft_data()["questions"]]


def test_simulation_page_draws_the_tree_and_flags_problems_until_fixed(client, editor):
    page = f"{BASE}/simulations/sim-impostor"
    html = client.get(page).get_data(as_text=True)
    assert "<svg" in html and html.count('class="sim-node') == 6 and "⚠" not in html.split("<svg")[1].split("</svg>")[0]
    assert html.count(' id="id"') == 1   # the add-node form's fields are prefixed, so labels stay unique
    data = form_data(html, "node-id")
    data.update({"node-id": "n5", "node-caller": "Are you still there?"})
    assert client.post(f"{page}/nodes", data=data).status_code == 302
    html = client.get(page).get_data(as_text=True)
    # A node nothing leads to, with no reply and no ending: content check's words, linked to the node.
    assert "node &#39;n5&#39;: never reached from the start node &#39;n1&#39;" in html
    assert "node &#39;n5&#39;: has neither choices nor &#39;end: true&#39;" in html
    assert f'href="{page}/nodes/n5"' in html and "⚠ DEAD END, UNREACHABLE" in html
    node = form_data(client.get(f"{page}/nodes/n5").get_data(as_text=True), "caller")
    node.update({"caller": "<script>alert('x')</script> Goodbye.", "end": "y"})
    assert client.post(f"{page}/nodes/n5", data=node).status_code == 302
    node = form_data(client.get(f"{page}/nodes/n4").get_data(as_text=True), "caller")
    node.update({"choices-1-next": "n5"})
    assert client.post(f"{page}/nodes/n4", data=node).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "never reached" not in html and "⚠" not in html.split("<svg")[1].split("</svg>")[0]
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    sim = next(q for q in _draft_data()["questions"] if q["id"] == "sim-impostor")
    assert sim["nodes"][-1] == {"id": "n5", "caller": "<script>alert('x')</script> Goodbye.", "end": True}


def test_renaming_a_node_follows_its_replies(client, editor):
    page = f"{BASE}/simulations/sim-impostor/nodes/n2"
    node = form_data(client.get(page).get_data(as_text=True), "caller")
    assert client.post(page, data=dict(node, id="sarah-there")).status_code == 302
    sim = next(q for q in _draft_data()["questions"] if q["id"] == "sim-impostor")
    assert sim["nodes"][0]["choices"][1]["next"] == "sarah-there"


def test_preview_counts_nowhere_and_shows_no_key_before_answering(client, editor):
    # The preview shows the draft as it is now, not the published version.
    edit = form_data(client.get(f"{BASE}/questions/verbal-sar").get_data(as_text=True), "prompt")
    assert client.post(f"{BASE}/questions/verbal-sar", data=dict(edit, prompt="Edited in the draft?")).status_code == 302
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert "Start the preview" in client.get(f"{BASE}/preview").get_data(as_text=True)
    token = form_data(client.get(f"{BASE}/preview").get_data(as_text=True), "csrf_token")
    assert client.post(f"{BASE}/preview", data={**token, "action": "start"}).status_code == 302
    quiz = _draft_data()
    items = {q["id"]: q for q in quiz["questions"]}
    pages = []
    secrets_ = {o["feedback"] for q in quiz["questions"] for o in q.get("options", [])}
    secrets_ |= {c["feedback"] for n in items["sim-impostor"]["nodes"] for c in n.get("choices", [])}
    secrets_ |= {items["basis-first"]["feedback_true"], items["basis-first"]["feedback_false"]}
    secrets_ |= {q["explanation"] for q in quiz["questions"]}
    for position in range(1, 6):
        html = client.get(f"{BASE}/preview?position={position}").get_data(as_text=True)
        pages.append(html)
        assert "Preview" in html
        for secret in secrets_:
            assert secret.strip() not in html, (position, secret)
        assert "correct" not in html.lower().replace("correct the highlighted", "")
        assert "score" not in html.lower().replace("no score", "")
        fields = form_data(html, "position")
        if 'name="option" value="b"' in html and "Sarah" in html:    # the call: say the best replies
            for _ in range(4):
                page = client.get(f"{BASE}/preview?position={position}").get_data(as_text=True)
                if "The call has ended" in page:
                    break
                choice = "a" if "Hello, this is Sarah" in page or "Can my husband" in page else "b"
                client.post(f"{BASE}/preview", data={**fields, "option": choice, "action": "say"})
        elif 'name="position-' in html:
            ids = [name.split("-", 1)[1] for name in fields if name.startswith("position-")]
            client.post(f"{BASE}/preview", data={**fields, **{f"position-{i}": str(n + 1) for n, i in enumerate(ids)},
                                                 "action": "next"})
        else:
            option = "true" if 'value="true"' in html else "b"
            client.post(f"{BASE}/preview", data={**fields, "option": option, "action": "next"})
    assert any("Edited in the draft?" in html for html in pages)
    result = client.post(f"{BASE}/preview", data={**token, "action": "finish", "position": "1"})
    html = result.get_data(as_text=True)
    assert result.status_code == 200 and "Score by moment of the call" in html
    assert "During the call" in html or "during" in html.lower()
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_node_and_settings_forms_keep_what_was_typed_on_error(client, editor):
    page = f"{BASE}/simulations/sim-impostor/nodes/n3"
    node = form_data(client.get(page).get_data(as_text=True), "caller")
    node.update({"caller": "Typed caller line", "choices-2-id": "c", "choices-2-text": "A third reply typed",
                 "choices-2-feedback": "Typed feedback"})      # but no node chosen for it to go to
    response = client.post(page, data=node)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Typed caller line" in html and "A third reply typed" in html and "Typed feedback" in html
    assert 'href="#choices-2-next"' in html
    assert '<select aria-describedby="choices-2-next-error" aria-invalid="true" id="choices-2-next"' in html
    settings = form_data(client.get(BASE).get_data(as_text=True), "pass_mark")
    settings.update({"title": "Typed title", "pass_mark": "150"})
    response = client.post(BASE, data=settings)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Typed title"' in html and 'value="150"' in html
    assert 'href="#pass_mark"' in html
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_what_the_editor_flags_publishing_refuses_and_what_it_fixes_publishes(client, editor):
    from lms.authoring.drafts import publish
    from lms.learning.sync import ContentInvalid

    page = f"{BASE}/simulations/sim-impostor"
    new_node = form_data(client.get(page).get_data(as_text=True), "node-id")
    assert client.post(f"{page}/nodes", data={**new_node, "node-id": "n9", "node-caller": "Hello?"}).status_code == 302
    db.session.expire_all()
    draft = db.session.scalar(select(Draft).where(Draft.slug == "recording-calls"))
    with pytest.raises(ContentInvalid) as refused:
        publish(draft, editor)
    flagged = {row.split(": ", 1)[1] for row in map(str, refused.value.problems)}
    assert flagged == {"question 'sim-impostor', node 'n9': has neither choices nor 'end: true'",
                       "question 'sim-impostor', node 'n9': never reached from the start node 'n1'"}
    html = client.get(page).get_data(as_text=True)
    for message in flagged:   # the editor listed each of them before anyone tried to publish
        assert message.replace("'", "&#39;") in html
    db.session.rollback()
    token = form_data(client.get(page).get_data(as_text=True), "revision")
    assert client.post(f"{page}/nodes/n9/delete", data=token).status_code == 302
    db.session.expire_all()
    draft = db.session.scalar(select(Draft).where(Draft.slug == "recording-calls"))
    expected = content_hash(load_quiz(draft.files[QUIZ_PATH]))
    assert publish(draft, editor).content_hash == expected


def test_the_preview_grades_an_unfinished_call_as_a_real_attempt_does(app, tmp_path):
    """Both go through assessment.services.grade_responses; the preview used to score an
    unfinished call simulation 0 where a real attempt gives the replies said so far their credit."""
    from lms.question_types import question_type
    from lms.assessment.services import grade_responses
    from lms.authoring.views.quiz import _preview_grade

    spec = load_quiz((FIXTURE / "quizzes" / "recording-calls.yaml").read_text())
    call = next(q for q in spec["questions"] if q["type"] == "call_simulation")
    start = next(n for n in call["nodes"] if n["id"] == call["start"])
    best_first = max(start["choices"], key=lambda c: c["score"])
    said_so_far = [best_first["id"]]  # one reply said, the call goes on
    assert not question_type(call).answered(call, said_so_far)
    draw = [{"item": call["id"], "shown": {}}]

    preview = _preview_grade(spec, {"draw": draw, "answers": {"1": said_so_far}})
    real = grade_responses(spec, {call["id"]: call}, draw, {1: said_so_far})
    assert preview["rows"][0]["grade"] == real.items[1] and real.items[1].earned > 0
    assert (preview["percent"], preview["passed"]) == (real.percent, real.passed)
