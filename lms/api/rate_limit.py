"""Each API key's budget of calls (API_RATE_LIMIT), counted in the rate limiter's storage.

Flask-Limiter's own check resolves every limit declared on the endpoint, its blueprint and the
app on each call, and reads the window a second time to write the X-RateLimit headers: about a
fifth of a one-agent clearance call (bench/clearance.py). The API has exactly one limit, per key,
so it is counted here with the `limits` library Flask-Limiter is built on, in the same storage
(RATELIMIT_STORAGE_URI: Redis in production, so every worker shares the count) as a fixed window:
one increment and one read of the window's end, and the same headers Flask-Limiter writes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Response
from limits import RateLimitItem, parse

from lms.extensions import limiter


@dataclass(frozen=True)
class Budget:
    """Where a key stands after a call was counted."""

    limit: int
    remaining: int
    reset_at: int  # epoch seconds: when the window ends
    retry_after: int  # seconds until then
    exceeded: bool

    def headers(self) -> dict[str, str]:
        """X-RateLimit-Limit, -Remaining and -Reset, and Retry-After in seconds, as Flask-Limiter
        writes them (RATELIMIT_HEADERS_ENABLED)."""
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset_at), "Retry-After": str(self.retry_after)}

    def add_headers(self, response: Response) -> None:
        for name, value in self.headers().items():
            response.headers[name] = value


@lru_cache(maxsize=16)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def count_call(key_prefix: str, limit: str) -> Budget:
    """Count one call of the key against `limit` ("600 per minute")."""
    item = _parsed(limit)
    storage = limiter.storage
    window = item.key_for("api-key", key_prefix)
    used = storage.incr(window, item.get_expiry())
    reset_at = int(storage.get_expiry(window))
    return Budget(limit=item.amount, remaining=max(item.amount - used, 0), reset_at=reset_at,
                  retry_after=max(reset_at - int(time.time()), 0), exceeded=used > item.amount)
