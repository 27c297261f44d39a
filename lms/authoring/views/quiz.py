"""The quiz and call-simulation editor, and the preview of a draft quiz (issue #7).

Routes on the authoring blueprint. Every page reads the quiz draft's file through quiz_yaml
and every save writes the whole file back through `drafts.save_files` with the revision the
form was based on, so a stale form gets a conflict instead of overwriting someone's work.
Pages only read: a quiz without a draft is shown from its published version, and the draft
is opened by the first save.

The preview draws and grades with the assessment code (`draw_items`, the question-type
registry) but keeps its state in the signed session cookie: no Attempt, no audit event, no
certification. Like a real attempt it sends no key, score or feedback before an answer.
"""
from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass
from typing import Any

import yaml
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.assessment.services import draw_items, grade_responses, has_answer
from lms.authoring import quiz_yaml
from lms.authoring.drafts import (
    DraftConflict, DraftError, check_draft, find_draft, main_path, new_draft, open_draft, save_files,
)
from lms.authoring.export import published_item, version_files
from lms.authoring.models import Draft
from lms.authoring.forms import slug_or_error
from lms.authoring.quiz_forms import NewQuizForm, QuestionForm, QuizSettingsForm, question_form, type_choices
from lms.authoring.simulation import analyse, render_svg
from lms.authoring.views import bp
from lms.content import Problem, yaml_lines
from lms.extensions import db
from lms.question_types import REGISTRY, ResponseError, question_type
from lms.question_types.call_simulation.editor import NewNodeForm, NodeForm
from lms.question_types.editor import TypeEditor, fail, typed_text

PREVIEW_KEY = "quiz_preview"


@dataclass
class Working:
    """The quiz as the editor sees it: the draft's file, or the published one before a draft exists."""

    slug: str
    draft: Draft | None
    text: str
    data: dict
    revision: int          # 0 while there is no draft: the form was based on the published version

    @property
    def questions(self) -> list[dict]:
        questions = self.data.get("questions")
        return [q for q in questions if isinstance(q, dict)] if isinstance(questions, list) else []

    def index_of(self, item_id: str) -> int:
        """Position of the item in the file's question list; 404 when there is none."""
        for index, item in enumerate(self.data.get("questions") or []):
            if isinstance(item, dict) and item.get("id") == item_id:
                return index
        abort(404)


def _working(slug: str) -> Working:
    draft = find_draft("quiz", slug)
    if draft is not None:
        text = draft.files.get(main_path("quiz", slug), "")
        revision = draft.revision
    else:
        item = published_item("quiz", slug)
        if item is None or item.current_version is None:
            abort(404)
        text, revision = version_files("quiz", item.current_version)[main_path("quiz", slug)], 0
    try:
        data = quiz_yaml.load_quiz(text)
    except quiz_yaml.QuizTextError as error:
        # Only an imported or hand-edited file can be this broken; the forms cannot show it.
        flash(_("The draft of this quiz is not a readable quiz file (%(error)s). "
                "Replace it by importing a corrected file.", error=error), "error")
        abort(409)
    return Working(slug, draft, text, data, revision)


def _revision(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # matches no draft: a form without its revision is treated as stale


def _save(work: Working, data: dict, form_revision: Any) -> Draft:
    """Write `data` into the draft (opening it on the first save); raises DraftConflict."""
    expected = _revision(form_revision)
    draft = work.draft
    if draft is None:
        draft = find_draft("quiz", work.slug) or open_draft("quiz", work.slug, current_user)
        # A form based on the published version is current if nobody has saved the draft since.
        if expected == 0 and draft.revision == 1 and \
                draft.files.get(main_path("quiz", work.slug)) == work.text:
            expected = 1
    text = quiz_yaml.update_quiz_text(work.text, data)
    return save_files(draft, {main_path("quiz", work.slug): text}, expected, current_user)


def _problems(work: Working) -> list[Problem]:
    """What content check says about the draft (a published quiz has passed it already)."""
    return check_draft(work.draft) if work.draft is not None else []


def _question_starts(text: str) -> list[tuple[int, str | None]]:
    """(first line, id) of each question in the file, to tell which question a line is in."""
    try:
        data, _ = yaml_lines.load(text)
    except yaml.YAMLError:
        return []
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        return []
    return [(questions.line_of(index), item.get("id") if isinstance(item, dict) else None)
            for index, item in enumerate(questions)]


def _problem_rows(work: Working, problems: list[Problem]) -> list[dict]:
    """Problems with the question they are in and a link to the form that fixes them."""
    starts = _question_starts(work.text)
    items = {q.get("id"): q for q in work.questions}
    rows = []
    for problem in problems:
        item_id = next((i for line, i in reversed(starts) if problem.line and line <= problem.line), None)
        link = None
        if isinstance(item_id, str) and item_id in items:
            link = _edit_url(work.slug, items[item_id])
            node = re.search(r"node '([^']+)'", problem.message)
            if _has_nodes(items[item_id]) and node:
                link = url_for("authoring.quiz_simulation_node", slug=work.slug, item_id=item_id,
                               node_id=node.group(1))
        rows.append({"problem": problem, "link": link, "item_id": item_id})
    return rows


def _stale(error: DraftConflict) -> None:
    """For the small POST buttons: nothing saved, say why (forms show the full diff instead)."""
    db.session.rollback()
    flash(_("Not saved: %(reason)s Nothing was overwritten; here is the draft as it is now.", reason=error), "warning")


def _committed(message: str) -> None:
    db.session.commit()
    flash(message, "success")


# -- quizzes -----------------------------------------------------------------------------------

@bp.route("/quizzes/new", methods=["GET", "POST"])
def quiz_new():
    form = NewQuizForm()
    slug = slug_or_error(form) if form.validate_on_submit() else None
    if slug is not None:
        data = {"title": form.title.data.strip(), "pass_mark": 80, "time_limit_minutes": None,
                "attempts": {"max": None, "cooldown_minutes": 0}, "review": "after_submit",
                "draw": [], "questions": []}
        try:
            new_draft("quiz", slug, current_user, {main_path("quiz", slug): quiz_yaml.dump_quiz(data)})
        except DraftError as error:
            fail(form.slug, str(error))
        else:
            _committed(_("Draft quiz “%(title)s” created. Add questions, then the draw rules.",
                         title=data["title"]))
            return redirect(url_for("authoring.quiz_edit", slug=slug))
    return render_template("authoring/quiz_new.html", form=form), 422 if form.errors else 200


@bp.route("/quizzes/<slug>", methods=["GET", "POST"])
def quiz_edit(slug: str):
    work = _working(slug)
    form = QuizSettingsForm()
    conflict = None
    if request.method == "GET":
        form.from_data(work.data)
        if len(form.draw) < form.draw.max_entries:
            form.draw.append_entry()  # a blank rule to add one without scripts
        form.revision.data = work.revision
    elif request.form.get("action") == "add_rule":
        if len(form.draw) < form.draw.max_entries:
            form.draw.append_entry()
    elif form.validate():
        try:
            _save(work, form.to_data(work.data), form.revision.data)
        except DraftConflict as error:
            conflict = error
            form.revision.data = error.current.revision
        else:
            _committed(_("Quiz settings saved to the draft."))
            return redirect(url_for("authoring.quiz_edit", slug=slug))
    rows = [_question_row(work, item) for item in work.questions]
    status = 409 if conflict else 422 if form.errors else 200
    return render_template("authoring/quiz_edit.html", work=work, form=form, rows=rows, conflict=conflict,
                           problems=_problem_rows(work, _problems(work)), types=type_choices()), status


def _editor(item: dict) -> type[TypeEditor] | None:
    """The editor of the item's type; None for a type this app does not have (a hand-edited draft)."""
    kind = item.get("type")
    return REGISTRY[kind].editor if isinstance(kind, str) and kind in REGISTRY else None


def _has_nodes(item: dict) -> bool:
    editor = _editor(item)
    return editor is not None and editor.has_nodes


def _question_row(work: Working, item: dict) -> dict:
    """A line of the quiz's list of questions."""
    editor = _editor(item)
    return {"item": item, "edit": _edit_url(work.slug, item),
            "label": editor.label if editor else item.get("type"), "summary": editor.summary(item) if editor else "",
            "analysis": analyse(item) if editor and editor.has_nodes else None}


def _edit_url(slug: str, item: dict) -> str:
    endpoint = "authoring.quiz_simulation" if _has_nodes(item) else "authoring.quiz_question"
    return url_for(endpoint, slug=slug, item_id=item["id"])


def _id_taken(work: Working, item_id: str, own_index: int | None) -> bool:
    return any(q.get("id") == item_id for i, q in enumerate(work.data.get("questions") or [])
               if isinstance(q, dict) and i != own_index)


def _question_page(work: Working, form: QuestionForm, item: dict | None, conflict: DraftConflict | None):
    """The form of one question; a simulation's page also draws its tree."""
    problems = [row for row in _problem_rows(work, _problems(work))
                if item is not None and row["item_id"] == item.get("id")]
    context: dict[str, Any] = {}
    template = "authoring/quiz_question.html"
    if form.has_nodes and item is not None:
        result = analyse(item)
        node_form = NewNodeForm(formdata=None, prefix="node")
        node_form.revision.data = work.revision
        template = "authoring/simulation.html"
        svg = render_svg(item, result, href=lambda node_id: url_for(
            "authoring.quiz_simulation_node", slug=work.slug, item_id=item["id"], node_id=node_id))
        context = {"analysis": result, "svg": svg, "node_form": node_form}
    status = 409 if conflict else 422 if form.errors else 200
    return render_template(template, work=work, form=form, item=item, conflict=conflict, problems=problems,
                           **context), status


def _edit_question(slug: str, item_id: str | None, kind: str | None):
    """Shared by a new question of `kind` and an existing one (`item_id`)."""
    work = _working(slug)
    index = work.index_of(item_id) if item_id is not None else None
    item = work.data["questions"][index] if index is not None else None
    kind = item.get("type") if item is not None else kind
    if not isinstance(kind, str) or kind not in REGISTRY:
        abort(404)
    form = question_form(kind)
    conflict = None
    form.prepare(item)
    if request.method == "GET":
        if item is not None:
            form.from_data(item)
        form.add_row()
        form.revision.data = work.revision
    elif form.row_action is not None and request.form.get("action") == form.row_action:
        form.add_row()
    elif form.validate():
        new_item = form.to_data(item or {})
        if _id_taken(work, new_item["id"], index):
            fail(form.id, _("Another question already has the id '%(id)s'.", id=new_item["id"]))
        else:
            data = dict(work.data)
            questions = list(data.get("questions") or [])
            if index is None:
                questions.append(new_item)
            else:
                questions[index] = new_item
            data["questions"] = questions
            try:
                _save(work, data, form.revision.data)
            except DraftConflict as error:
                conflict = error
                form.revision.data = error.current.revision
            else:
                _committed(_("Question %(id)s saved to the draft.", id=new_item["id"]))
                if form.has_nodes or index is not None:
                    return redirect(_edit_url(slug, new_item))
                return redirect(url_for("authoring.quiz_edit", slug=slug))
    return _question_page(work, form, item, conflict)


@bp.route("/quizzes/<slug>/questions/new/<kind>", methods=["GET", "POST"])
def quiz_question_new(slug: str, kind: str):
    return _edit_question(slug, None, kind)


@bp.route("/quizzes/<slug>/questions/<item_id>", methods=["GET", "POST"])
def quiz_question(slug: str, item_id: str):
    return _edit_question(slug, item_id, None)


@bp.route("/quizzes/<slug>/simulations/<item_id>", methods=["GET", "POST"])
def quiz_simulation(slug: str, item_id: str):
    return _edit_question(slug, item_id, None)


def _structure_change(slug: str, change) -> Response:
    """Apply `change(work, questions) -> message` to the question list and save; for small POSTs."""
    work = _working(slug)
    questions = list(work.data.get("questions") or [])
    message = change(work, questions)
    try:
        _save(work, {**work.data, "questions": questions}, request.form.get("revision"))
    except DraftConflict as error:
        _stale(error)
    else:
        _committed(message)
    return redirect(url_for("authoring.quiz_edit", slug=slug))


@bp.route("/quizzes/<slug>/questions/<item_id>/delete", methods=["POST"])
def quiz_question_delete(slug: str, item_id: str):
    def change(work: Working, questions: list) -> str:
        del questions[work.index_of(item_id)]
        return _("Question %(id)s deleted from the draft.", id=item_id)
    return _structure_change(slug, change)


@bp.route("/quizzes/<slug>/questions/<item_id>/move", methods=["POST"])
def quiz_question_move(slug: str, item_id: str):
    def change(work: Working, questions: list) -> str:
        index = work.index_of(item_id)
        other = index - 1 if request.form.get("direction") == "up" else index + 1
        if 0 <= other < len(questions):
            questions[index], questions[other] = questions[other], questions[index]
        if other < index:
            return _("Question %(id)s moved up.", id=item_id)
        return _("Question %(id)s moved down.", id=item_id)
    return _structure_change(slug, change)


# -- simulation nodes --------------------------------------------------------------------------

def _simulation(work: Working, item_id: str) -> tuple[int, dict]:
    index = work.index_of(item_id)
    item = work.data["questions"][index]
    if not _has_nodes(item):
        abort(404)
    return index, item


def _with_item(work: Working, index: int, item: dict) -> dict:
    questions = list(work.data["questions"])
    questions[index] = item
    return {**work.data, "questions": questions}


@bp.route("/quizzes/<slug>/simulations/<item_id>/nodes/<node_id>", methods=["GET", "POST"])
def quiz_simulation_node(slug: str, item_id: str, node_id: str):
    work = _working(slug)
    index, item = _simulation(work, item_id)
    nodes = [n for n in item.get("nodes") or [] if isinstance(n, dict)]
    position = next((i for i, n in enumerate(nodes) if n.get("id") == node_id), None)
    if position is None:
        abort(404)
    node = nodes[position]
    form = NodeForm()
    conflict = None
    if request.method == "GET":
        form.from_data(node)
        if len(form.choices) < form.choices.max_entries:
            form.choices.append_entry()  # a blank reply to add one without scripts
        form.revision.data = work.revision
    elif request.form.get("action") == "add_reply":
        if len(form.choices) < form.choices.max_entries:
            form.choices.append_entry()
    elif form.validate():
        new_node = form.to_data(node)
        new_id = new_node["id"]
        if new_id != node_id and any(n.get("id") == new_id for n in nodes):
            fail(form.id, _("Another node already has the id '%(id)s'.", id=new_id))
        else:
            new_nodes = [_renamed(n, node_id, new_id) for n in nodes]
            new_nodes[position] = _renamed(new_node, node_id, new_id)
            new_item = {**item, "nodes": new_nodes}
            if item.get("start") == node_id:
                new_item["start"] = new_id
            try:
                _save(work, _with_item(work, index, new_item), form.revision.data)
            except DraftConflict as error:
                conflict = error
                form.revision.data = error.current.revision
            else:
                _committed(_("Node %(id)s saved to the draft.", id=new_id))
                return redirect(url_for("authoring.quiz_simulation", slug=slug, item_id=item_id) + f"#node-{new_id}")
    form.set_nodes([n.get("id") for n in nodes])
    result = analyse(item)
    status = 409 if conflict else 422 if form.errors else 200
    return render_template("authoring/simulation_node.html", work=work, item=item, node=node, form=form,
                           conflict=conflict, findings=[f for f in result.findings if f.node == node_id]), status


def _renamed(node: dict, old: str, new: str) -> dict:
    """A node whose replies follow a renamed node."""
    if old == new or not isinstance(node.get("choices"), list):
        return node
    choices = [{**c, "next": new} if isinstance(c, dict) and c.get("next") == old else c
               for c in node["choices"]]
    return {**node, "choices": choices}


@bp.route("/quizzes/<slug>/simulations/<item_id>/nodes", methods=["POST"])
def quiz_simulation_node_add(slug: str, item_id: str):
    work = _working(slug)
    index, item = _simulation(work, item_id)
    form = NewNodeForm(prefix="node")
    nodes = [n for n in item.get("nodes") or [] if isinstance(n, dict)]
    back = url_for("authoring.quiz_simulation", slug=slug, item_id=item_id)
    if not form.validate():
        flash(_("New node: %(errors)s", errors=" ".join(str(e) for errors in form.errors.values() for e in errors)), "error")
        return redirect(back)
    if any(n.get("id") == form.id.data for n in nodes):
        flash(_("There is already a node called %(id)s.", id=form.id.data), "error")
        return redirect(back)
    node: dict[str, Any] = {"id": form.id.data, "caller": typed_text(form.caller.data)}
    if form.end.data:
        node["end"] = True
    try:
        _save(work, _with_item(work, index, {**item, "nodes": list(item.get("nodes") or []) + [node]}),
              form.revision.data)
    except DraftConflict as error:
        _stale(error)
        return redirect(back)
    if form.end.data:
        _committed(_("Ending %(id)s added: make a reply lead to it.", id=form.id.data))
        return redirect(back + f"#node-{form.id.data}")
    _committed(_("Node %(id)s added: give it the replies the agent can choose.", id=form.id.data))
    return redirect(url_for("authoring.quiz_simulation_node", slug=slug, item_id=item_id, node_id=form.id.data))


@bp.route("/quizzes/<slug>/simulations/<item_id>/nodes/<node_id>/delete", methods=["POST"])
def quiz_simulation_node_delete(slug: str, item_id: str, node_id: str):
    work = _working(slug)
    index, item = _simulation(work, item_id)
    nodes = [n for n in item.get("nodes") or [] if not (isinstance(n, dict) and n.get("id") == node_id)]
    back = url_for("authoring.quiz_simulation", slug=slug, item_id=item_id)
    if len(nodes) == len(item.get("nodes") or []):
        abort(404)
    try:
        _save(work, _with_item(work, index, {**item, "nodes": nodes}), request.form.get("revision"))
    except DraftConflict as error:
        _stale(error)
        return redirect(back)
    _committed(_("Node %(id)s deleted; replies that led to it are flagged until they lead elsewhere.", id=node_id))
    return redirect(back)


# -- preview -----------------------------------------------------------------------------------

def _preview_state(work: Working) -> dict | None:
    """This quiz's preview in the session, if it was drawn from the draft as it is now."""
    state = session.get(PREVIEW_KEY)
    if not state or state.get("slug") != work.slug or state.get("hash") != quiz_yaml.content_hash(work.data):
        return None
    return state


def _preview_grade(spec: dict, state: dict) -> dict:
    """Per-item grades and per-phase totals, by the same function that grades a real attempt."""
    items = {item["id"]: item for item in spec["questions"]}
    responses = {int(position): response for position, response in state["answers"].items()}
    result = grade_responses(spec, items, state["draw"], responses)
    rows = []
    for position, entry in enumerate(state["draw"], start=1):
        item, response = items[entry["item"]], responses.get(position)
        rows.append({"position": position, "item": item, "response": response, "grade": result.items[position]})
    return {"rows": rows, "percent": result.percent, "passed": result.passed, "earned": result.earned,
            "possible": result.possible,
            "phases": [(phase, totals["earned"], totals["possible"], totals["percent"])
                       for phase, totals in result.phases.items()]}


@bp.route("/quizzes/<slug>/preview", methods=["GET", "POST"])
def quiz_preview(slug: str):
    work = _working(slug)
    problems = _problems(work)
    if problems:
        # Only content that would publish can be drawn and graded safely.
        return render_template("authoring/preview_quiz.html", work=work, problems=_problem_rows(work, problems),
                               state=None), 200
    state = _preview_state(work)
    action = request.form.get("action") if request.method == "POST" else None
    if action in ("start", "restart"):
        draw = draw_items(work.data, random.Random(secrets.randbits(64)))
        session[PREVIEW_KEY] = {"slug": slug, "hash": quiz_yaml.content_hash(work.data), "draw": draw,
                                "answers": {}, "done": False}
        return redirect(url_for("authoring.quiz_preview", slug=slug, position=1))
    if state is None:
        if request.method == "POST":
            flash(_("The draft changed since this preview started: start it again."), "warning")
        return render_template("authoring/preview_quiz.html", work=work, problems=[], state=None)
    if action == "finish" or state["done"]:
        state["done"] = True
        session[PREVIEW_KEY] = state
        return render_template("authoring/preview_quiz_result.html", work=work,
                               result=_preview_grade(work.data, state))
    total = len(state["draw"])
    position = request.args.get("position", type=int) or request.form.get("position", type=int) or 1
    if not 1 <= position <= total:
        abort(404)
    entry = state["draw"][position - 1]
    item = next(q for q in work.data["questions"] if q["id"] == entry["item"])
    response = state["answers"].get(str(position))
    error = None
    if request.method == "POST":
        if has_answer(request.form):
            try:
                response = question_type(item).parse(item, entry["shown"], request.form, response)
            except ResponseError as exc:
                error = str(exc)
            else:
                state["answers"][str(position)] = response
                session[PREVIEW_KEY] = state
        elif action == "say":
            error = _("Choose what you say next.")
        if error is None:
            target = {"back": position - 1, "next": position + 1, "say": position}.get(action or "", position)
            return redirect(url_for("authoring.quiz_preview", slug=slug, position=max(1, min(total, target))))
    return render_template(
        "authoring/preview_quiz.html", work=work, problems=[], state=state, item=item, shown=entry["shown"],
        position=position, total=total, answer=response, error=error, qtype=question_type(item),
        view=question_type(item).display(item, entry["shown"], response),
    ), 422 if error else 200
