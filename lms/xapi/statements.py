"""Learning events as xAPI 1.0.3 statements: pure builders, no database writes, no network.

Activity ids are stable IRIs under BASE_URL that name the thing, not a page (a course, a
lesson by its key, a quiz, a question by its item id, a programme), so they stay the same when
routes or content versions change; the content version each event used goes in
context.extensions. Actors are identified by an `account` on this app whose name is a keyed hash
of the user id: stable, meaningless outside the app, and neither the e-mail address nor the
database id. An organisation can opt in to identifying its people by e-mail (mbox) instead.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.question_types import question_type

LANG = "en"

# Verbs: ADL's where one fits, the Tin Can registry's "earned", and our own for a revocation,
# which no registry names (revoking is a new fact about the learner, never a voided statement).
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
RESPONDED = "http://adlnet.gov/expapi/verbs/responded"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
EARNED = "http://id.tincanapi.com/verb/earned"

_VERB_DISPLAY = {EXPERIENCED: "experienced", ATTEMPTED: "attempted", ANSWERED: "answered",
                 RESPONDED: "responded", PASSED: "passed", FAILED: "failed", EARNED: "earned"}

# The kinds of statement, as the outbox and the admin page name them.
KINDS = {"lesson_experienced": _l("Lesson experienced"), "quiz_attempted": _l("Quiz attempted"),
         "question_answered": _l("Question answered"), "simulation_path": _l("Simulation path taken"),
         "quiz_passed": _l("Quiz passed"), "quiz_failed": _l("Quiz failed"),
         "certificate_earned": _l("Certificate earned"), "certificate_revoked": _l("Certificate revoked")}

COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
LESSON_TYPE = "http://adlnet.gov/expapi/activities/lesson"
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
INTERACTION_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"
SIMULATION_TYPE = "http://adlnet.gov/expapi/activities/simulation"



def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def iri(path: str) -> str:
    """An identifier under BASE_URL for something of ours (an activity, a verb, an extension)."""
    return f"{base_url()}/xapi/{path}"


def revoked_verb() -> str:
    return iri("verbs/certificate-revoked")


def pseudonym(user_id: int) -> str:
    """The actor's account name: an HMAC-SHA256 of the user id, keyed by XAPI_PSEUDONYM_KEY.

    Without the key the LRS cannot link it back to a person, and it is the same in every statement
    and export, so the LRS can follow one learner. Derived from SECRET_KEY when no key is set.
    """
    key = current_app.config.get("XAPI_PSEUDONYM_KEY") or \
        hashlib.sha256(b"xapi-actor:" + current_app.config["SECRET_KEY"].encode()).hexdigest()
    return hmac.new(key.encode(), f"user:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]


def actor(user: User, by_email: bool | None = None) -> dict[str, Any]:
    """The agent: an account on this app, or the e-mail where the organisation opted in (`by_email`,
    read from the user's organisation when not given)."""
    if by_email is None:
        by_email = user.organisation.xapi_identify_by_email
    if by_email:
        return {"objectType": "Agent", "mbox": f"mailto:{user.email}"}
    return {"objectType": "Agent", "account": {"homePage": base_url(), "name": pseudonym(user.id)}}


def timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def registration(attempt_id: int) -> str:
    """The attempt's registration: one UUID that ties its attempted, answered and passed statements."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, iri(f"attempts/{attempt_id}")))


def _verb(verb_id: str, display: str | None = None) -> dict[str, Any]:
    return {"id": verb_id, "display": {LANG: display or _VERB_DISPLAY[verb_id]}}


def _activity(path: str, kind: str, name: str, description: str = "", **definition: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "name": {LANG: name[:250] or path}}
    if description:
        body["description"] = {LANG: description}
    body.update(definition)
    return {"objectType": "Activity", "id": iri(path), "definition": body}


def _context(version_hash: str, parents: list[dict] | None = None, reg: str | None = None,
             **extensions: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"platform": "CallSafe Academy", "language": LANG,
                               "extensions": {iri("extensions/content-version"): version_hash,
                                              **{iri(f"extensions/{k.replace('_', '-')}"): v
                                                 for k, v in extensions.items()}}}
    if parents:
        context["contextActivities"] = {"parent": parents}
    if reg:
        context["registration"] = reg
    return context


def _statement(who: dict, verb: dict, obj: dict, at: datetime, *, result: dict | None = None,
               context: dict | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"id": str(uuid.uuid4()), "actor": who, "verb": verb, "object": obj,
                                 "timestamp": timestamp(at)}
    if result is not None:
        statement["result"] = result
    if context is not None:
        statement["context"] = context
    return statement


def _score(earned: float, possible: float) -> dict[str, Any]:
    scaled = round(earned / possible, 4) if possible else 0.0
    return {"scaled": scaled, "raw": earned, "min": 0, "max": possible}


def _duration(seconds: float) -> str:
    return f"PT{max(0, round(seconds))}S"


# ---- the events ----------------------------------------------------------------------------

def course_activity(slug: str, title: str) -> dict[str, Any]:
    return _activity(f"courses/{slug}", COURSE_TYPE, title)


def quiz_activity(slug: str, title: str, description: str = "") -> dict[str, Any]:
    return _activity(f"quizzes/{slug}", ASSESSMENT_TYPE, title, description)


def lesson_experienced(who: dict, version, lesson, at: datetime) -> dict[str, Any]:
    """The agent finished reading a lesson of a course version."""
    slug = version.course.slug
    obj = _activity(f"courses/{slug}/lessons/{lesson.key}", LESSON_TYPE, lesson.title)
    return _statement(who, _verb(EXPERIENCED), obj, at, result={"completion": True},
                      context=_context(version.content_hash, [course_activity(slug, version.title)],
                                       phase=lesson.phase))


def quiz_attempted(who: dict, slug: str, attempt) -> dict[str, Any]:
    """An attempt started: its registration ties the statements that follow to it."""
    version = attempt.quiz_version
    return _statement(who, _verb(ATTEMPTED), quiz_activity(slug, version.title,
                                                            version.spec.get("description", "")),
                      attempt.started_at, context=_context(version.content_hash, reg=registration(attempt.id),
                                                           items=len(attempt.draw)))


def _response_text(item: dict, response: Any) -> str:
    """The response in xAPI's format for the interaction type: ids joined by "[,]"."""
    if isinstance(response, bool):
        return "true" if response else "false"
    if isinstance(response, list):
        return "[,]".join(str(part) for part in response)
    if isinstance(response, str):
        return response
    return json.dumps(response, sort_keys=True)


def question_answered(who: dict, slug: str, attempt, position: int, item: dict, response: Any, grade) -> dict[str, Any]:
    """One question of a finished attempt, with the agent's response and its grade."""
    version = attempt.quiz_version
    qtype = question_type(item)
    definition: dict[str, Any] = {"interactionType": qtype.xapi_interaction}
    if choices := qtype.xapi_choices(item):
        definition["choices"] = [{"id": choice["id"], "description": {LANG: choice["text"]}} for choice in choices]
    prompt = " ".join(str(item.get("prompt", item["id"])).split())
    obj = _activity(f"quizzes/{slug}/items/{item['id']}", INTERACTION_TYPE, prompt, **definition)
    return _statement(
        who, _verb(ANSWERED), obj, attempt.finished_at,
        result={"response": _response_text(item, response), "success": grade.correct,
                "score": _score(grade.earned, grade.possible)},
        context=_context(version.content_hash, [quiz_activity(slug, version.title)], reg=registration(attempt.id),
                         position=position, phase=item["phase"]))


def simulation_path(who: dict, slug: str, attempt, position: int, item: dict, path: list, grade) -> dict[str, Any]:
    """The replies an agent chose through a call simulation, in order, and whether one was a breach."""
    version = attempt.quiz_version
    obj = _activity(f"quizzes/{slug}/items/{item['id']}", SIMULATION_TYPE, item.get("title", item["id"]),
                    " ".join(str(item.get("scenario", "")).split()), interactionType="other")
    extensions = {iri("extensions/path"): [str(choice) for choice in path]}
    if grade.critical is not None:
        extensions[iri("extensions/critical-reply")] = True
    return _statement(
        who, _verb(RESPONDED), obj, attempt.finished_at,
        result={"response": "[,]".join(str(choice) for choice in path), "success": grade.correct,
                "completion": True, "score": _score(grade.earned, grade.possible), "extensions": extensions},
        context=_context(version.content_hash, [quiz_activity(slug, version.title)], reg=registration(attempt.id),
                         position=position, phase=item["phase"]))


def quiz_result(who: dict, slug: str, attempt) -> dict[str, Any]:
    """Passed or failed, with the score, the time taken, and the score per phase."""
    version = attempt.quiz_version
    verb = PASSED if attempt.passed else FAILED
    return _statement(
        who, _verb(verb), quiz_activity(slug, version.title), attempt.finished_at,
        result={"success": bool(attempt.passed), "completion": True,
                "score": _score(attempt.earned or 0.0, attempt.possible or 0.0),
                "duration": _duration((attempt.finished_at - attempt.started_at).total_seconds()),
                "extensions": {iri("extensions/phase-scores"): attempt.phase_scores or {},
                               iri("extensions/critical-failure"): bool(attempt.critical_failure),
                               iri("extensions/closed-at-time-limit"): attempt.status.value == "expired"}},
        context=_context(version.content_hash, reg=registration(attempt.id)))


def programme_activity(award) -> dict[str, Any]:
    version = award.programme_version
    return _activity(f"programmes/{award.programme.slug}", iri("activity-types/certification-programme"),
                     version.title, version.spec.get("description", ""))


def certificate_earned(who: dict, award) -> dict[str, Any]:
    """An award: the programme, its validity, and the content versions that earned it."""
    evidence = award.evidence or {}
    return _statement(
        who, _verb(EARNED), programme_activity(award), award.issued_at,
        result={"success": True, "completion": True},
        context=_context(award.programme_version.content_hash,
                         valid_until=timestamp(award.valid_until),
                         evidence={"courses": [{"course": c["slug"], "version": c["version"]}
                                               for c in evidence.get("courses", [])],
                                   "quizzes": [{"quiz": q["slug"], "version": q["version"], "percent": q["percent"]}
                                               for q in evidence.get("quizzes", [])]}))


def certificate_revoked(who: dict, award) -> dict[str, Any]:
    """A revocation: a new fact about the award, with its reason; the earned statement stands."""
    return _statement(
        who, _verb(revoked_verb(), "had the certificate revoked"), programme_activity(award), award.revoked_at,
        result={"success": False, "extensions": {iri("extensions/revocation-reason"): award.revoke_reason or ""}},
        context=_context(award.programme_version.content_hash, issued_at=timestamp(award.issued_at)))
