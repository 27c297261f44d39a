"""`flask lms webhooks send|check`: the delivery run and the status check, now (beat runs them on a schedule)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks."""


@webhooks_group.command("send")
@with_appcontext
def webhooks_send() -> None:
    """Send the due deliveries, each endpoint in order; failures are retried later with backoff."""
    from lms.webhooks.delivery import send_pending

    click.echo(send_pending().summary())


@webhooks_group.command("check")
@with_appcontext
def webhooks_check() -> None:
    """Record new expiring, expired and overdue states (each once) as events to send."""
    from lms.webhooks.events import check_statuses

    click.echo(check_statuses().summary())
