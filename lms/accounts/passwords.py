"""Password hashing (Argon2id) and the password rules of security.md."""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

# OWASP minimum for Argon2id: m=19 MiB, t=2, p=1 (security.md, ASVS 6.2).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_LENGTH = 8
MAX_LENGTH = 128
# A hash of a throw-away password, so that checking an unknown account costs
# the same time as checking a real one (no account enumeration by timing).
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from public breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Say what is wrong with a new password, or None. No composition rules, by design."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(count)s characters; a short phrase of several words works well.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(count)s characters.", count=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common_passwords():
        return _("This password is one of the most common ones and is easy to guess. Choose another.")
    personal = {email.lower(), email.split("@")[0].lower(), name.lower().replace(" ", "")}
    if lowered in personal - {""}:
        return _("Don't use your name or e-mail address as your password.")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends the time of one Argon2 check."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
