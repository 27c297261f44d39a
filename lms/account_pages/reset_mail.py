"""The password-reset e-mail: written during the request, sent once the reply has gone.

Sending after the reply (Response.call_on_close) keeps the forgot-password page's timing
the same whether or not an e-mail leaves, so the page tells nobody which addresses have
an account. Delivery reuses the reminders' mailer (SMTP with the MAIL_* settings, or the
log without them). The message is not kept in the reminders outbox: it carries a live
token, and the outbox is a page admins read.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app
from flask_babel import force_locale, gettext as _, get_locale

from lms.accounts.locale_defaults import organisation_defaults
from lms.accounts.models import User
from lms.reminders.mailer import DeliveryError, LogMailer, mailer_for
from lms.reminders.models import Message

log = logging.getLogger("lms.accounts")

def prepare(user: User, link: str) -> Callable[[], None]:
    """A function that e-mails `link` to the user; it needs no app context, so it can run on close."""
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    # In the account holder's language (theirs, else their organisation's), else the page's.
    language = user.language or organisation_defaults(user.organisation_id)[0] or str(get_locale() or "en")
    with force_locale(language if language in current_app.config["LANGUAGES"] else "en"):
        subject = _("Choose a new password for CallSafe Academy")
        body = "\n\n".join([
            _("Hello %(name)s,", name=user.name),
            _("Someone asked to reset the password of your CallSafe Academy account. If it was you, choose a "
              "new password here within %(minutes)s minutes (the link works once):", minutes=minutes),
            link,
            _("Choosing a new password signs you out everywhere else. If you did not ask for this, ignore "
              "this e-mail: your password stays as it is."),
        ]) + "\n"
    message = Message(recipient=user.email, subject=subject, body=body)
    mailer = mailer_for(current_app.config)
    # Without MAIL_SERVER the log is the outbox; in production a log must never hold a token.
    quiet = isinstance(mailer, LogMailer) and current_app.config["ENV_NAME"] == "production"

    def send() -> None:
        if quiet:
            log.warning("Password reset e-mail not sent to %s: MAIL_SERVER is not set", message.recipient)
            return
        try:
            mailer.send(message)
        except DeliveryError as exc:
            log.warning("Password reset e-mail to %s failed: %s", message.recipient, exc)
        finally:
            mailer.close()

    return send
