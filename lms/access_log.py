"""gunicorn's access log without secrets: the token in a one-time link's path is redacted.

The set-password and reset links carry their token in the path (they are followed from an
e-mail or a chat message, so it cannot be a form field). The first GET trades the token
for server-side state (lms.account_pages.views), but a log line is written for that GET, and
for any later replay, so the access log redacts these paths whatever the request did.
gunicorn.conf.py installs it with `logger_class = "lms.access_log.AccessLogger"`.
"""
from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping

from gunicorn.glogging import Logger

# The token segment of /set-password/<token> and /reset-password/<token>, wherever it
# appears in a log line: the request line, the path, a Referer header.
TOKEN_PATH = re.compile(r"(/(?:set|reset)-password/)[^/?#\s\"]+", re.IGNORECASE)
PLACEHOLDER = "[redacted]"


def redact(text: str) -> str:
    """`text` with the token of every one-time link path in it replaced by PLACEHOLDER."""
    return TOKEN_PATH.sub(rf"\g<1>{PLACEHOLDER}", text)


class RedactTokenPaths(logging.Filter):
    """Redacts one-time link tokens in a record's message and arguments.

    gunicorn logs an access line as `access_log.info(access_log_format, atoms)`: the
    arguments are one mapping of atoms (its own dict type, which answers "-" for a missing
    key), so it is changed in place rather than replaced.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, MutableMapping):
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = redact(value)
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


_REDACT = RedactTokenPaths()


class AccessLogger(Logger):
    """gunicorn's own logger, with RedactTokenPaths on its access log.

    Added after gunicorn's setup, which (re)builds the handlers, including from a
    logconfig_dict, so that no configuration of the log leaves the filter out.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.access_log.addFilter(_REDACT)
