"""Alerts that other packages put at the top of the certification dashboard: privacy's breach and
data-request deadlines. Each package registers its alert when its views load (as job kinds are
registered, lms/jobs/kinds.py), so certification, below privacy, imports nothing from it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from markupsafe import Markup

from lms.accounts.models import User

# An alert for this reader at this time: its HTML (rendered from the registering package's own
# template), or None when there is nothing to say or the reader may not act on it.
Alert = Callable[[User, datetime], Markup | None]

_ALERTS: list[Alert] = []


def register(alert: Alert) -> None:
    if alert not in _ALERTS:
        _ALERTS.append(alert)


def alerts_for(reader: User, at: datetime) -> list[Markup]:
    """What the dashboard shows this reader above its table, in the order the alerts registered."""
    return [shown for shown in (alert(reader, at) for alert in _ALERTS) if shown is not None]
