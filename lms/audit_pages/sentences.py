"""One readable sentence per audit event, in the reader's language: the audit log, its CSV and
the staff home pages ("Ana Silva downloaded the certificate of João Costa").

Each family of actions (the part before the first dot: "auth", "user", "award", ...) has one
function that words its events, most through a table of messages by verb. An action no function
words, or a verb its family does not know yet, gets a generic sentence naming the action, so a new
kind of event reads sensibly before it has words of its own. The recorded facts stay beside the
sentence, unchanged, for whoever needs the detail.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import select

from lms.accounts.locale_defaults import LANGUAGE_NAMES
from lms.accounts.models import Organisation, User
from lms.pseudonyms import pseudonym
from lms.audit.models import AuditEvent
from lms.audit.subjects import organisation_fact, subjects_of
from lms.extensions import db


@dataclass(frozen=True)
class Names:
    """The people and organisations a set of events names, loaded together (`names_for`)."""

    people: Mapping[int, str]
    organisations: Mapping[int, str]
    subjects: Mapping[int, int]  # event seq -> the id of the person it is about


def names_for(events: Iterable[AuditEvent]) -> Names:
    """What the sentences of these events need, in at most four queries whatever their number."""
    events = list(events)
    subjects = subjects_of(events)
    people_ids = {e.actor_id for e in events if e.actor_id is not None} | set(subjects.values())
    organisation_ids = {o for e in events if (o := organisation_fact(e)) is not None}
    people = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(people_ids))).all()) if people_ids else {}
    organisations = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                            .where(Organisation.id.in_(organisation_ids))).all()) if organisation_ids else {}
    return Names(people, organisations, subjects)


@dataclass(frozen=True)
class _Event:
    """One event and what its sentence may name."""

    event: AuditEvent
    names: Names

    @property
    def data(self) -> Mapping:
        return self.event.data or {}

    @property
    def actor(self) -> str:
        event = self.event
        if event.actor_id is not None and event.personal is None:  # their personal fields were erased
            return _("Erased person %(pseudonym)s", pseudonym=pseudonym(event.actor_id))
        if event.actor_id is not None and event.actor_id in self.names.people:
            return self.names.people[event.actor_id]
        label = event.actor_label or ""
        if label in ("", "system"):
            return _("The system")
        if label == "anonymous":
            return _("Someone not signed in")
        return label  # an API key, an identity provider, or the address typed at a failed sign-in

    @property
    def subject_id(self) -> int | None:
        return self.names.subjects.get(self.event.seq)

    @property
    def subject(self) -> str:
        subject_id = self.subject_id
        if subject_id is not None and subject_id in self.names.people:
            return self.names.people[subject_id]
        return self.event.subject_label or _("someone")

    @property
    def own(self) -> bool:
        """The actor acted on their own record."""
        return self.event.actor_id is not None and self.event.actor_id == self.subject_id

    @property
    def organisation(self) -> str:
        organisation_id = organisation_fact(self.event)
        return self.names.organisations.get(organisation_id, _("an organisation"))

    def words(self, **more) -> dict:
        """The values every message may use, and the family's own."""
        return {"actor": self.actor, "subject": self.subject, "organisation": self.organisation, **more}


Wording = Callable[[_Event, str], "str | None"]


def _from_table(table: Mapping[str, object], e: _Event, verb: str, **more) -> str | None:
    message = table.get(verb)
    return None if message is None else str(message) % e.words(**more)


_ROLES = {"agent": _l("agent"), "trainer": _l("trainer"), "auditor": _l("auditor"), "admin": _l("administrator"),
          "partner_admin": _l("partner administrator")}

_AUTH = {
    "login": _l("%(actor)s signed in"),
    "logout": _l("%(actor)s signed out"),
    "login_failed": _l("A sign-in as %(actor)s failed"),
    "login_refused": _l("%(actor)s was refused a sign-in with a password"),
    "password_changed": _l("%(actor)s changed their password"),
    "password_change_failed": _l("%(actor)s gave a wrong current password when changing it"),
    "password_reset_requested": _l("%(actor)s asked for a password reset link"),
    "session_ended": _l("%(actor)s ended one of their sessions"),
    "sessions_ended_elsewhere": _l("%(actor)s signed out of every other session"),
    "session_revived": _l("%(actor)s came back through a remembered session"),
}
_LOGIN_METHODS = {"sso": _l("%(actor)s signed in with single sign-on"), "passkey": _l("%(actor)s signed in with a passkey")}


def _auth(e: _Event, verb: str) -> str | None:
    if verb == "login" and e.data.get("method") in _LOGIN_METHODS:
        return str(_LOGIN_METHODS[e.data["method"]]) % e.words()
    return _from_table(_AUTH, e, verb)


_USER = {
    "created": _l("%(actor)s added %(subject)s as %(role)s"),
    "updated": _l("%(actor)s changed the details of %(subject)s"),
    "activated": _l("%(actor)s reactivated %(subject)s"),
    "deactivated": _l("%(actor)s deactivated %(subject)s"),
    "password_link_issued": _l("%(actor)s issued a link for %(subject)s to set their password"),
    "password_reset": _l("%(actor)s set a new password through an e-mailed link"),
}


def _user(e: _Event, verb: str) -> str | None:
    changes = e.data.get("changes") or {}
    if verb == "role_changed" and isinstance(changes.get("role"), list) and len(changes["role"]) == 2:
        old, new = (str(_ROLES.get(role, role)) for role in changes["role"])
        return _("%(actor)s changed the role of %(subject)s from %(old)s to %(new)s", **e.words(old=old, new=new))
    if verb == "role_changed":
        return _("%(actor)s changed the scope of %(subject)s", **e.words())
    if verb == "password_set":
        return (_("%(actor)s set their password", **e.words()) if e.own or e.subject_id is None
                else _("%(actor)s set a password for %(subject)s", **e.words()))
    return _from_table(_USER, e, verb, role=str(_ROLES.get(e.data.get("role"), e.data.get("role") or "")))


def _account(e: _Event, verb: str) -> str | None:
    return _from_table({"locale_changed": _l("%(actor)s changed their language or time zone")}, e, verb)


_AWARD = {
    "issued": _l("%(subject)s was certified in %(programme)s"),
    "revoked": _l("%(actor)s revoked the award of %(subject)s: “%(reason)s”"),
    "reissued": _l("%(actor)s re-issued the certificate of %(subject)s with a new code"),
}


def _award(e: _Event, verb: str) -> str | None:
    return _from_table(_AWARD, e, verb, programme=e.data.get("programme") or "?", reason=e.data.get("reason") or "")


def _document(own: object, others: object, issued: object) -> Wording:
    """Certificates, badges and transcripts: downloaded by their holder or by someone else, or issued."""
    def wording(e: _Event, verb: str) -> str | None:
        if verb == "downloaded" or verb == "exported":
            return str(own if e.own else others) % e.words()
        if verb == "issued":
            return str(issued) % e.words()
        return None
    return wording


_certificate = _document(_l("%(actor)s downloaded their certificate"),
                         _l("%(actor)s downloaded the certificate of %(subject)s"),
                         _l("The certificate of %(subject)s was issued"))
_open_badge = _document(_l("%(actor)s downloaded their Open Badge"),
                        _l("%(actor)s downloaded the Open Badge of %(subject)s"),
                        _l("The Open Badge of %(subject)s was issued"))
_transcript = _document(_l("%(actor)s downloaded their transcript"),
                        _l("%(actor)s downloaded the transcript of %(subject)s"),
                        _l("The transcript of %(subject)s was issued"))


def _attempt(e: _Event, verb: str) -> str | None:
    percent = e.data.get("percent")
    if verb == "started":
        return _("%(actor)s started the quiz %(quiz)s", **e.words(quiz=e.data.get("quiz") or "?"))
    if verb in ("submitted", "closed") and isinstance(percent, (int, float)):
        score = f"{percent:.0f}"
        if verb == "closed":
            return _("A quiz attempt was closed at its time limit with %(score)s%%", **e.words(score=score))
        return (_("%(actor)s passed a quiz with %(score)s%%", **e.words(score=score)) if e.data.get("passed")
                else _("%(actor)s did not pass a quiz, with %(score)s%%", **e.words(score=score)))
    return None


def _attempts(e: _Event, verb: str) -> str | None:
    if verb != "regraded":
        return None
    changed = len(e.data.get("changed") or [])
    reason = e.data.get("reason")
    if reason:
        return ngettext("%(actor)s regraded the quiz %(quiz)s (%(num)d attempt changed): “%(reason)s”",
                        "%(actor)s regraded the quiz %(quiz)s (%(num)d attempts changed): “%(reason)s”", changed,
                        **e.words(quiz=e.data.get("quiz") or "?", reason=reason))
    # Regrades before a reason was asked for (#19) have none.
    return ngettext("%(actor)s regraded a quiz: %(num)d attempt changed",
                    "%(actor)s regraded a quiz: %(num)d attempts changed", changed, **e.words())


_ASSIGNMENT_TO_AGENT = {
    "created": _l("%(actor)s assigned %(programme)s to %(subject)s"),
    "changed": _l("%(actor)s changed when %(programme)s is due for %(subject)s"),
    "removed": _l("%(actor)s removed the assignment of %(programme)s to %(subject)s"),
}
_ASSIGNMENT_TO_ORGANISATION = {
    "created": _l("%(actor)s assigned %(programme)s to every agent of %(organisation)s"),
    "changed": _l("%(actor)s changed when %(programme)s is due for every agent of %(organisation)s"),
    "removed": _l("%(actor)s removed the assignment of %(programme)s to every agent of %(organisation)s"),
}


def _assignment(e: _Event, verb: str) -> str | None:
    table = _ASSIGNMENT_TO_AGENT if e.subject_id is not None else _ASSIGNMENT_TO_ORGANISATION
    return _from_table(table, e, verb, programme=e.data.get("programme") or "?")


def _recertification(e: _Event, verb: str) -> str | None:
    return _from_table({"required": _l("%(actor)s required recertification after a change to the course %(course)s")},
                       e, verb, course=e.data.get("course") or "?")


_EXPORTS = {"certification status": _l("%(actor)s downloaded the dashboard as a CSV file"),
            "audit log": _l("%(actor)s downloaded the audit log as a CSV file")}


def _export(e: _Event, verb: str) -> str | None:
    job = e.data.get("job_id") or "?"
    if verb == "csv":
        return str(_EXPORTS.get(e.data.get("what"), _l("%(actor)s downloaded a CSV file"))) % e.words()
    if verb == "requested" and organisation_fact(e.event) is not None:
        return _("%(actor)s started export #%(job)s about %(organisation)s", **e.words(job=job))
    return _from_table({"requested": _l("%(actor)s started export #%(job)s"),
                        "retried": _l("%(actor)s retried export #%(job)s"),
                        "downloaded": _l("%(actor)s downloaded %(file)s from export #%(job)s")},
                       e, verb, job=job, file=e.data.get("file") or "?")


def _access(e: _Event, verb: str) -> str | None:
    return _from_table({"denied": _l("%(actor)s was refused %(path)s")}, e, verb, path=e.data.get("path") or "?")


def _security(e: _Event, verb: str) -> str | None:
    if verb != "probe":
        return None
    count, route = e.data.get("count") or 0, e.data.get("route") or "?"
    if e.data.get("kind") == "throttled":
        return ngettext("%(actor)s made %(num)d throttled request on %(route)s",
                        "%(actor)s made %(num)d throttled requests on %(route)s", count, **e.words(route=route))
    return ngettext("%(actor)s asked %(num)d time for a missing or refused record on %(route)s",
                    "%(actor)s asked %(num)d times for missing or refused records on %(route)s", count,
                    **e.words(route=route))


_MFA = {
    "totp_enrolled": _l("%(actor)s set up an authenticator app"),
    "totp_removed": _l("%(actor)s removed their authenticator app"),
    "recovery_codes_regenerated": _l("%(actor)s made new recovery codes"),
    "recovery_code_used": _l("%(actor)s used a recovery code"),
    "verified": _l("%(actor)s passed the second step of signing in"),
    "verify_failed": _l("%(actor)s failed the second step of signing in"),
    "passkey_registered": _l("%(actor)s registered a passkey"),
    "passkey_removed": _l("%(actor)s removed a passkey"),
    "reset_by_admin": _l("%(actor)s reset the second factors of %(subject)s"),
}


def _mfa(e: _Event, verb: str) -> str | None:
    return _from_table(_MFA, e, verb)


_KINDS = {"course": _l("course"), "quiz": _l("quiz"), "programme": _l("programme")}
_CONTENT = {
    "published": _l("%(actor)s published the %(kind)s %(slug)s"),
    "exported": _l("%(actor)s exported the %(kind)s %(slug)s"),
    "imported": _l("%(actor)s imported files into the draft of the %(kind)s %(slug)s"),
    "loaded": _l("%(actor)s loaded the content files"),
}
_DRAFT = {
    "created": _l("%(actor)s started a new %(kind)s, %(slug)s"),
    "opened": _l("%(actor)s opened a draft of the %(kind)s %(slug)s"),
    "discarded": _l("%(actor)s discarded the draft of the %(kind)s %(slug)s"),
    "image_added": _l("%(actor)s added an image to a draft"),
}


def _content_table(table: Mapping[str, object]) -> Wording:
    def wording(e: _Event, verb: str) -> str | None:
        kind = e.data.get("kind")
        return _from_table(table, e, verb, kind=str(_KINDS.get(kind, kind or "")), slug=e.data.get("slug") or "")
    return wording


_TRANSLATION = {
    "saved": _l("%(actor)s saved the %(language)s translation of the %(kind)s %(slug)s"),
    "exported": _l("%(actor)s exported the %(language)s translation of the %(kind)s %(slug)s"),
}


def _translation(e: _Event, verb: str) -> str | None:
    kind, language = e.data.get("kind"), e.data.get("language")
    return _from_table(_TRANSLATION, e, verb, kind=str(_KINDS.get(kind, kind or "")), slug=e.data.get("slug") or "",
                       language=LANGUAGE_NAMES.get(language, language or "?"))


_PRIVACY = {
    "erased": _l("%(actor)s erased the personal data of %(subject)s"),
    "erasure_requested": _l("%(actor)s asked for the personal data of %(subject)s to be erased"),
    "request_recorded": _l("%(actor)s recorded a data-subject request from %(subject)s"),
    "request_extended": _l("%(actor)s extended the deadline of a request from %(subject)s"),
    "request_closed": _l("%(actor)s closed a request from %(subject)s"),
    "restricted": _l("%(actor)s restricted the processing of the data of %(subject)s"),
    "restriction_lifted": _l("%(actor)s lifted the restriction on the data of %(subject)s"),
    "record_downloaded": _l("%(actor)s downloaded the record of processing"),
}


def _privacy(e: _Event, verb: str) -> str | None:
    if verb == "access_exported":
        return (_("%(actor)s downloaded everything held about them", **e.words()) if e.own
                else _("%(actor)s downloaded everything held about %(subject)s", **e.words()))
    return _from_table(_PRIVACY, e, verb)


def _simple(table: Mapping[str, object]) -> Wording:
    """A family whose messages need nothing beyond the actor, the subject and the organisation."""
    return lambda e, verb: _from_table(table, e, verb)


FAMILIES: dict[str, Wording] = {
    "auth": _auth,
    "user": _user,
    "account": _account,
    "award": _award,
    "certificate": _certificate,
    "open_badge": _open_badge,
    "transcript": _transcript,
    "attempt": _attempt,
    "attempts": _attempts,
    "assignment": _assignment,
    "recertification": _recertification,
    "export": _export,
    "access": _access,
    "security": _security,
    "mfa": _mfa,
    "content": _content_table(_CONTENT),
    "draft": _content_table(_DRAFT),
    "translation": _translation,
    "privacy": _privacy,
    "organisation": _simple({"created": _l("%(actor)s added the organisation %(organisation)s"),
                             "updated": _l("%(actor)s changed the details of %(organisation)s"),
                             "programmes_available": _l("%(actor)s changed the programmes %(organisation)s may assign")}),
    "breach": _simple({"recorded": _l("%(actor)s recorded a personal data breach"),
                       "updated": _l("%(actor)s updated a personal data breach")}),
    "branding": _simple({"changed": _l("%(actor)s changed the certificates' branding")}),
    "webhook": _simple({"created": _l("%(actor)s added a webhook endpoint"), "changed": _l("%(actor)s changed a webhook endpoint"),
                        "deleted": _l("%(actor)s deleted a webhook endpoint"), "rotated": _l("%(actor)s rotated a webhook secret"),
                        "enabled": _l("%(actor)s enabled a webhook endpoint"), "disabled": _l("%(actor)s disabled a webhook endpoint"),
                        "resumed": _l("%(actor)s resumed a webhook endpoint"), "retried": _l("%(actor)s retried a webhook delivery"),
                        "test_queued": _l("%(actor)s sent a test event to a webhook endpoint")}),
    "api_key": _simple({"created": _l("%(actor)s created an API key"), "rotated": _l("%(actor)s rotated an API key"),
                        "revoked": _l("%(actor)s revoked an API key")}),
    "api": _simple({"used": _l("%(actor)s called the API")}),
    "scim_token": _simple({"created": _l("%(actor)s created a SCIM token for %(organisation)s"),
                           "revoked": _l("%(actor)s revoked a SCIM token")}),
    "scim_group": _simple({"mapped": _l("%(actor)s changed what an identity provider group means")}),
    "sso": _simple({"connection_saved": _l("%(actor)s saved a single sign-on connection"),
                    "connection_deleted": _l("%(actor)s deleted a single sign-on connection"),
                    "linked": _l("%(actor)s linked their account to single sign-on"),
                    "provisioned": _l("%(actor)s was added through single sign-on"),
                    "login_refused": _l("%(actor)s was refused a single sign-on")}),
    "roster": _simple({"uploaded": _l("%(actor)s uploaded a roster file"),
                       "apply_requested": _l("%(actor)s applied a roster import")}),
    "reminders": _simple({"sent": _l("%(actor)s sent the reminder e-mails")}),
    "retention": _simple({"applied": _l("%(actor)s deleted what the retention periods allow")}),
    "xapi": _simple({"retried": _l("%(actor)s retried sending xAPI statements")}),
}


def sentence(event: AuditEvent, names: Names) -> str:
    """The event in one sentence of the reader's language (a generic one for actions not worded yet)."""
    family, _dot, verb = event.action.partition(".")
    e = _Event(event, names)
    wording = FAMILIES.get(family)
    text = wording(e, verb) if wording is not None else None
    if text:
        return text
    return _("%(actor)s: %(action)s", actor=e.actor, action=event.action.replace(".", " ").replace("_", " "))
