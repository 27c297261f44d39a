"""Taking a quiz: draw, saving, resuming, submitting, deadlines, limits, integrity."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from lms import clock
from lms.accounts.models import Role
from lms.assessment import services
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.audit.models import AuditEvent
from lms.clock import now
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import answer_all, best_form, start, worst_form
from tests.conftest import csrf_token, login


@pytest.fixture
def set_clock(app):
    """Move lms.clock for everything at once (the attempt's deadline, the session, the audit event)."""
    yield clock.set_now
    clock.set_now(None)


def _actions(attempt_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target_type == "attempt", AuditEvent.target_id == str(attempt_id)).order_by(AuditEvent.seq)))


def test_draw_follows_the_rules_and_is_stored(app, quiz, agent):
    attempt = start(agent, quiz)
    items = services.items_by_id(quiz.current_version.spec)
    drawn = [items[entry["item"]] for entry in attempt.draw]
    assert [(i["phase"], i["type"] == "call_simulation") for i in drawn][:1] == [("during", True)]
    assert sorted(i["phase"] for i in drawn) == ["before", "before", "during", "during", "during"]
    assert len({i["id"] for i in drawn}) == 5
    for entry in attempt.draw:
        item = items[entry["item"]]
        if item["type"] in ("single_choice", "multiple_response", "ordering"):
            assert sorted(entry["shown"]["order"]) == sorted(o["id"] for o in item["options"])
    assert attempt.deadline == attempt.started_at + timedelta(minutes=20)
    assert _actions(attempt.id) == ["attempt.started"]


def test_pass_with_per_phase_scores_and_review(app, quiz, agent, client, login_as):
    login_as(agent)
    client.post("/quizzes/recording-calls/start", data={"csrf_token": csrf_token(client, "/quizzes/recording-calls")})
    attempt = db.session.scalars(select(Attempt)).one()
    answer_all(client, attempt)
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "5 of 5 answered" in review
    client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review")})
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.passed and attempt.percent == 100.0
    assert set(attempt.phase_scores) == {"before", "during"}
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "Passed: 100%" in html and "Before the call" in html and "During the call" in html
    assert "Why:" in html and "References: Art. 15" in html  # review after passing, with articles
    assert _actions(attempt.id) == ["attempt.started", "attempt.submitted"]


def test_the_review_gives_the_feedback_written_for_the_answer_given(app, quiz, agent, client, login_as):
    """A true/false item answered wrongly shows the feedback for that (wrong) answer, not for the key."""
    import random

    spec = quiz.current_version.spec
    seed = next(seed for seed in range(100) if "basis-first" in
                {entry["item"] for entry in services.draw_items(spec, random.Random(seed))})
    attempt = start(agent, quiz, seed)
    login_as(agent)
    answer_all(client, attempt, lambda item, shown, previous: (worst_form if item["id"] == "basis-first"
                                                                 else best_form)(item, shown, previous))
    client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review")})
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "Passed" in html and "The lawful basis must be chosen before recording starts." in html
    assert "Your answer: <strong>False</strong>. Correct: <strong>True</strong>." in html
    assert "The basis is fixed before processing begins." in html        # feedback_false: what they said
    assert "Right; the basis cannot be picked afterwards." not in html   # feedback_true: not theirs


def test_fail_hides_review_after_pass_policy_and_shows_cooldown(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    answer_all(client, attempt, worst_form)
    client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review")})
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "Not passed yet" in html
    assert "Why:" not in html and "shown once you pass" in html and "Art. 15" in html
    assert "Your next attempt opens at" in html
    page = client.get("/quizzes/recording-calls").get_data(as_text=True)
    assert "Start a new attempt" not in page and "in 60 minutes" in page
    refused = client.post("/quizzes/recording-calls/start",
                          data={"csrf_token": csrf_token(client, "/quizzes/recording-calls")}, follow_redirects=True)
    assert "Your next attempt opens at" in refused.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Attempt.id))) == 1


def test_attempt_limit(app, quiz, agent, set_clock):
    moment = [now()]
    set_clock(moment[0])
    for _ in range(3):
        attempt = start(agent, quiz)
        services.submit(agent, attempt)
        db.session.commit()
        moment[0] += timedelta(minutes=61)
        set_clock(moment[0])
    with pytest.raises(services.AttemptError, match="used all 3 attempts"):
        services.start_attempt(agent, quiz)


def test_answers_are_saved_and_the_attempt_resumes(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    item, shown = services.item_at(attempt, 2)
    client.post(f"/attempts/{attempt.id}/questions/2",
                data={**best_form(item, shown), "csrf_token": csrf_token(client, f"/attempts/{attempt.id}/questions/2")})
    # A new browser: sign in again and start: the same attempt comes back, the answer kept.
    other = app.test_client()
    login(other, agent.email, factories.PASSWORD)
    resumed = other.post("/quizzes/recording-calls/start", data={"csrf_token": csrf_token(other, "/quizzes/recording-calls")})
    assert resumed.location.endswith(f"/attempts/{attempt.id}/questions/1")
    page = other.get(f"/attempts/{attempt.id}/questions/2").get_data(as_text=True)
    assert "checked" in page or "selected" in page
    assert '<span class="answered-count">1</span> answered' in page
    first = other.get(f"/attempts/{attempt.id}/questions/1").get_data(as_text=True)
    assert '<span class="answered-count">1</span> answered' in first
    assert " checked" not in first and " selected" not in first  # question 1 was not answered
    assert db.session.scalar(select(db.func.count(Attempt.id))) == 1


def test_one_attempt_in_progress_is_a_database_rule(app, quiz, agent):
    attempt = start(agent, quiz)
    db.session.add(Attempt(user_id=agent.id, quiz_id=quiz.id, quiz_version_id=attempt.quiz_version_id,
                           status=AttemptStatus.IN_PROGRESS, started_at=attempt.started_at, draw=[]))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _leaks(html: str, spec: dict, drawn_ids: set[str]) -> list[str]:
    """Answer-key material from the quiz spec that appears in a page or JSON body."""
    found = []
    for item in spec["questions"]:
        if item["id"] not in drawn_ids:
            continue
        texts = [item["explanation"]]
        texts += [o["feedback"] for o in item.get("options", [])]
        texts += [item.get("feedback_true", ""), item.get("feedback_false", "")]
        texts += [c["feedback"] for n in item.get("nodes", []) for c in n.get("choices", [])]
        found += [t for t in texts if t and t.strip() in html]
    for word in ("correct", "score", "earned", "feedback", "points"):
        if re.search(rf'["\s]{word}["\s:=]', html, re.I):
            found.append(word)
    return found


def test_no_key_score_or_feedback_reaches_the_browser_during_an_attempt(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    spec = quiz.current_version.spec
    drawn = {entry["item"] for entry in attempt.draw}
    bodies = [client.get("/quizzes/recording-calls").get_data(as_text=True)]
    for position in range(1, 6):
        url = f"/attempts/{attempt.id}/questions/{position}"
        bodies.append(client.get(url).get_data(as_text=True))
        item, shown = services.item_at(attempt, position)
        form = best_form(item, shown)
        if item["type"] == "call_simulation":  # played on its page, reply by reply
            said = client.post(url, data={**form, "csrf_token": csrf_token(client, url)}, follow_redirects=True)
            bodies.append(said.get_data(as_text=True))
            continue
        saved = client.post(f"/attempts/{attempt.id}/answers/{position}",
                            data={**form, "csrf_token": csrf_token(client, url)}, headers={"Accept": "application/json"})
        assert saved.status_code == 200 and saved.get_json()["saved"] is True
        assert set(saved.get_json()) == {"saved", "error", "answered", "total"}
        bodies.append(saved.get_data(as_text=True))
        bodies.append(client.get(url).get_data(as_text=True))
    bodies.append(client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True))
    script = client.get("/static/js/quiz.js")
    bodies.append(script.get_data(as_text=True))
    script.close()
    for body in bodies:
        assert _leaks(body, spec, drawn) == []


def test_score_like_fields_from_the_client_are_ignored(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    answer_all(client, attempt, worst_form)
    client.post(f"/attempts/{attempt.id}/submit", data={
        "csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review"),
        "score": "100", "percent": "100", "passed": "1", "earned": "99"})
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.passed is False and attempt.percent < 80


def test_answers_cannot_change_after_submission_and_stale_tabs_are_told(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    url = f"/attempts/{attempt.id}/questions/2"
    token = csrf_token(client, url)
    item, shown = services.item_at(attempt, 2)
    client.post(url, data={**worst_form(item, shown), "csrf_token": token})
    client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": token})
    before = db.session.scalars(select(Answer.response).where(Answer.attempt_id == attempt.id)).all()
    stale = client.post(url, data={**best_form(item, shown), "csrf_token": token}, follow_redirects=True)
    assert "already been submitted" in stale.get_data(as_text=True)
    as_json = client.post(f"/attempts/{attempt.id}/answers/2", data={**best_form(item, shown), "csrf_token": token},
                          headers={"Accept": "application/json"})
    assert as_json.status_code == 409 and "already been submitted" in as_json.get_json()["error"]
    db.session.expire_all()
    assert db.session.scalars(select(Answer.response).where(Answer.attempt_id == attempt.id)).all() == before
    again = client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": token}, follow_redirects=True)
    assert "already submitted" in again.get_data(as_text=True)
    assert _actions(attempt.id).count("attempt.submitted") == 1


def test_another_agents_attempt_is_404_for_reading_and_writing(app, quiz, agent, client, login_as):
    owner = factories.user(Role.AGENT)
    db.session.commit()
    attempt = start(owner, quiz)
    login_as(agent)
    token = csrf_token(client, "/quizzes/recording-calls")
    for method, url in [("GET", f"/attempts/{attempt.id}/questions/1"), ("POST", f"/attempts/{attempt.id}/questions/1"),
                        ("POST", f"/attempts/{attempt.id}/answers/2"),
                        ("GET", f"/attempts/{attempt.id}/review"), ("POST", f"/attempts/{attempt.id}/submit"),
                        ("GET", f"/attempts/{attempt.id}")]:
        response = client.open(url, method=method, data={"csrf_token": token, "option": "a"})
        assert response.status_code == 404, (method, url)
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.IN_PROGRESS
    assert db.session.scalars(select(Answer)).all() == []


def test_deadline_refuses_late_answers_and_closes_with_what_was_saved(app, quiz, agent, client, login_as,
                                                                      set_clock):
    login_as(agent)
    attempt = start(agent, quiz)
    item, shown = services.item_at(attempt, 2)
    url = f"/attempts/{attempt.id}/questions/2"
    token = csrf_token(client, url)
    client.post(url, data={**best_form(item, shown), "csrf_token": token})
    late = attempt.deadline + timedelta(seconds=1)
    set_clock(late)
    item3, shown3 = services.item_at(attempt, 3)
    response = client.post(f"/attempts/{attempt.id}/questions/3", data={**best_form(item3, shown3), "csrf_token": token},
                           follow_redirects=True)
    assert "Time is up" in response.get_data(as_text=True)
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status is AttemptStatus.EXPIRED and attempt.finished_at == attempt.deadline
    assert [a.position for a in attempt.answers] == [2]
    assert attempt.earned == item.get("points", 1)
    assert _actions(attempt.id) == ["attempt.started", "attempt.closed"]


def test_close_overdue_command(app, quiz, agent, runner, set_clock):
    attempt = start(agent, quiz)
    assert "Closed 0" in runner.invoke(args=["lms", "attempts", "close-overdue"]).output
    later = attempt.deadline + timedelta(minutes=5)
    set_clock(later)
    result = runner.invoke(args=["lms", "attempts", "close-overdue"])
    assert "Closed 1 overdue attempt(s)." in result.output
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.EXPIRED


def test_the_page_shows_the_time_left(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    html = client.get(f"/attempts/{attempt.id}/questions/1").get_data(as_text=True)
    assert re.search(r'data-seconds-left="1[12]\d\d"', html) and "Time left:" in html
    assert "Question 1 of 5" in html and '<progress value="1" max="5"' in html


def test_twenty_parallel_submits_grade_once(app: Flask, quiz, agent):
    attempt = start(agent, quiz)
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="100 per minute", LOGIN_LIMIT_PER_IP="100 per minute")
    client_cookies = []
    for _ in range(20):
        client = app.test_client()
        login(client, agent.email, factories.PASSWORD)
        client_cookies.append((client, csrf_token(client, f"/attempts/{attempt.id}/review")))
    barrier = threading.Barrier(20)
    codes: list[int] = []

    def submit(client, token):
        barrier.wait()
        response = client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": token},
                               headers={"Accept": "application/json"})
        codes.append(response.status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in client_cookies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] + [409] * 19
    assert _actions(attempt.id).count("attempt.submitted") == 1


def test_a_pass_starts_the_attempt_count_again(app, quiz, agent, client, login_as, set_clock):
    """Recertification next cycle must not be blocked by the attempts this cycle took."""
    moment = [now()]
    set_clock(moment[0])
    login_as(agent)
    for form_for in (worst_form, worst_form, best_form):
        attempt = start(agent, quiz)
        answer_all(client, attempt, form_for)
        services.submit(agent, attempt)
        db.session.commit()
        moment[0] += timedelta(minutes=61)
        set_clock(moment[0])
    state = services.availability(agent, quiz, quiz.current_version)
    assert state.attempts_used == 0 and state.can_start


# ---- the autosave endpoint (static/js/quiz.js) ----------------------------------------------

def _autosave(client, attempt: Attempt, position: int, form: dict, token: str):
    return client.post(f"/attempts/{attempt.id}/answers/{position}", data={**form, "csrf_token": token},
                       headers={"Accept": "application/json"})


def _stored(attempt: Attempt) -> dict[int, object]:
    db.session.expire_all()
    return dict(db.session.execute(select(Answer.position, Answer.response).where(Answer.attempt_id == attempt.id)).all())


def test_autosave_stores_changes_and_reports_progress(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    token = csrf_token(client, f"/attempts/{attempt.id}/questions/2")
    item2, shown2 = services.item_at(attempt, 2)
    item3, shown3 = services.item_at(attempt, 3)
    first = _autosave(client, attempt, 2, worst_form(item2, shown2), token)
    assert first.status_code == 200
    assert first.get_json() == {"saved": True, "error": None, "answered": 1, "total": 5}
    changed = _autosave(client, attempt, 2, best_form(item2, shown2), token)
    assert changed.get_json()["answered"] == 1  # the same question, changed: still one answered
    assert _autosave(client, attempt, 3, best_form(item3, shown3), token).get_json()["answered"] == 2
    stored = _stored(attempt)
    assert set(stored) == {2, 3}
    assert stored[2] == services.question_type(item2).parse(item2, shown2, MultiDict(best_form(item2, shown2)), None)
    # Everything unticked: the question is unanswered again.
    cleared = _autosave(client, attempt, 3, {}, token)
    assert cleared.status_code == 200 and cleared.get_json()["answered"] == 1
    assert set(_stored(attempt)) == {2}
    page = client.get(f"/attempts/{attempt.id}/questions/2").get_data(as_text=True)
    assert f'data-autosave-url="/attempts/{attempt.id}/answers/2"' in page


def test_autosave_refuses_bad_answers_simulations_and_positions_with_reasons(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    token = csrf_token(client, f"/attempts/{attempt.id}/questions/2")
    bad = _autosave(client, attempt, 2, {"option": "not-an-option", "position-x": "9"}, token)
    assert bad.status_code == 422 and bad.get_json()["saved"] is False and bad.get_json()["error"]
    simulation = _autosave(client, attempt, 1, {"option": "anything"}, token)  # position 1 is the simulation
    assert simulation.status_code == 422 and "one reply at a time" in simulation.get_json()["error"]
    assert _autosave(client, attempt, 6, {"option": "a"}, token).status_code == 404
    assert _stored(attempt) == {}
    no_token = client.post(f"/attempts/{attempt.id}/answers/2", data={"option": "a"},
                           headers={"Accept": "application/json"})
    assert no_token.status_code == 400 and "Reload the page" in no_token.get_json()["error"]


def test_autosave_after_the_deadline_closes_the_attempt_and_says_so(app, quiz, agent, client, login_as,
                                                                    set_clock):
    login_as(agent)
    attempt = start(agent, quiz)
    token = csrf_token(client, f"/attempts/{attempt.id}/questions/2")
    item, shown = services.item_at(attempt, 2)
    assert _autosave(client, attempt, 2, best_form(item, shown), token).status_code == 200
    late = attempt.deadline + timedelta(seconds=1)
    set_clock(late)
    item3, shown3 = services.item_at(attempt, 3)
    refused = _autosave(client, attempt, 3, best_form(item3, shown3), token)
    assert refused.status_code == 409 and "Time is up" in refused.get_json()["error"]
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status is AttemptStatus.EXPIRED and [a.position for a in attempt.answers] == [2]
    assert _actions(attempt.id) == ["attempt.started", "attempt.closed"]


def test_autosave_needs_a_live_session_and_a_learner(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    token = csrf_token(client, f"/attempts/{attempt.id}/questions/2")
    item, shown = services.item_at(attempt, 2)
    # The agent became an auditor mid-attempt: auditors write nothing (403, audited).
    agent.role = Role.AUDITOR
    db.session.commit()
    denied = _autosave(client, attempt, 2, best_form(item, shown), token)
    assert denied.status_code == 403 and "access" in denied.get_json()["error"]
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "access.denied")).all()
    agent.role = Role.AGENT
    db.session.commit()
    # Signed out everywhere (e.g. a password change): the next autosave is refused.
    from lms.accounts.services import end_all_sessions
    end_all_sessions(agent)
    db.session.commit()
    ended = _autosave(client, attempt, 2, best_form(item, shown), token)
    assert ended.status_code == 401 and "Sign in again" in ended.get_json()["error"]
    assert _stored(attempt) == {}


def test_quiz_pages_carry_a_fresh_script_nonce_and_the_autosave_reply_none(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    url = f"/attempts/{attempt.id}/questions/2"
    nonces = []
    for _ in range(2):
        page = client.get(url)
        nonce = re.search(r"script-src 'self' 'nonce-([^']+)';", page.headers["Content-Security-Policy"]).group(1)
        assert f'nonce="{nonce}"' in page.get_data(as_text=True)  # quiz.js carries it
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    item, shown = services.item_at(attempt, 2)
    saved = _autosave(client, attempt, 2, best_form(item, shown), csrf_token(client, url))
    assert saved.status_code == 200 and "nonce" not in saved.headers["Content-Security-Policy"]
    assert saved.headers["X-Frame-Options"] == "DENY" and saved.headers["X-Content-Type-Options"] == "nosniff"


def test_autosaves_racing_a_submit_never_change_a_graded_attempt(app: Flask, quiz, agent):
    """Every autosave lands before the grading (and is graded) or is refused after it."""
    attempt = start(agent, quiz)
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="100 per minute", LOGIN_LIMIT_PER_IP="100 per minute")
    forms = {position: [best_form(*services.item_at(attempt, position)), worst_form(*services.item_at(attempt, position))]
             for position in range(2, 6)}
    clients = []
    for _ in range(5):
        client = app.test_client()
        login(client, agent.email, factories.PASSWORD)
        clients.append((client, csrf_token(client, f"/attempts/{attempt.id}/questions/2")))
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def autosave(client, token, position):
        barrier.wait()
        for n in range(12):
            codes.append(_autosave(client, attempt, position, forms[position][n % 2], token).status_code)

    def submit(client, token):
        barrier.wait()
        codes.append(client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": token},
                                 headers={"Accept": "application/json"}).status_code)

    threads = [threading.Thread(target=autosave, args=(*clients[i], i + 2)) for i in range(4)]
    threads.append(threading.Thread(target=submit, args=clients[4]))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(codes) <= {200, 409} and codes.count(200) >= 1
    db.session.expire_all()
    graded = db.session.get(Attempt, attempt.id)
    assert graded.status is AttemptStatus.SUBMITTED
    answers = db.session.scalars(select(Answer).where(Answer.attempt_id == attempt.id)).all()
    # An answer written after grading would have no points recorded, or a later time.
    assert all(a.earned is not None and a.saved_at <= graded.finished_at for a in answers)
    assert sum(a.earned for a in answers) == graded.earned
