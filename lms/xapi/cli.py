"""`flask lms xapi send`: deliver the due statements now (beat runs the same work on a schedule)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("xapi")
def xapi_group() -> None:
    """xAPI statements to the learning record store."""


@xapi_group.command("send")
@with_appcontext
def xapi_send() -> None:
    """Send what is due in the outbox, in batches; failures are retried later with backoff."""
    from lms.xapi.delivery import send_pending

    click.echo(send_pending().summary())
