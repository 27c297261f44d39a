"""Which addresses an endpoint may have: the guard against server-side request forgery.

In production an endpoint must be https, and its host must resolve to public addresses only
(checked when it is saved and again before every delivery, since DNS can change): otherwise
anyone who may register an endpoint could make the app call its own network (databases, cloud
metadata at 169.254.169.254). WEBHOOKS_ALLOW_PRIVATE_TARGETS=1 lifts the address rule for
receivers on the company's own network. In development and tests, http is allowed to the
loopback host only. Redirects are never followed (lms/webhooks/delivery.py).
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class TargetError(ValueError):
    """The address may not receive webhooks; the message says why."""


def _production() -> bool:
    return current_app.config.get("ENV_NAME") == "production"


def check_url(url: str, *, resolve: bool = True) -> str:
    """The address, stripped, when it may receive webhooks; TargetError otherwise."""
    url = url.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise TargetError(_("Give a full address starting with https://."))
    if parts.username or parts.password:
        raise TargetError(_("Leave credentials out of the address: the signature authenticates each delivery."))
    if parts.fragment:
        raise TargetError(_("Leave out the #fragment."))
    production = _production()
    if parts.scheme == "http" and (production or host not in LOOPBACK_HOSTS):
        raise TargetError(_("The address must use https (http is allowed to localhost in development only)."))
    if production and not current_app.config.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS") and resolve:
        _check_public(host, parts.port or 443)
    return url


def _check_public(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetError(_("The host %(host)s cannot be resolved.", host=host)) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise TargetError(_("The host %(host)s resolves to a private or reserved address (%(address)s): "
                                "webhooks go to public addresses only.", host=host, address=str(address)))
