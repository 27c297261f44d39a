"""Password storage and rules (security.md, ASVS 6.2)."""
from __future__ import annotations

from argon2 import extract_parameters

from lms.accounts.passwords import hash_password, password_problem, verify_password


def test_hashes_are_argon2id_at_least_at_the_owasp_minimum():
    params = extract_parameters(hash_password("a perfectly fine passphrase"))
    assert params.type.name == "ID"
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2 and params.parallelism >= 1


def test_verify_accepts_the_right_password_only():
    stored = hash_password("lantern river otter")
    assert verify_password(stored, "lantern river otter")
    assert not verify_password(stored, "lantern river otteR")
    assert not verify_password(None, "lantern river otter")
    assert not verify_password("not-a-hash", "x")


def test_common_and_short_passwords_are_refused_with_a_reason():
    assert "most common" in password_problem("password1")
    assert "most common" in password_problem("Qwerty123")  # case does not disguise it
    assert "at least 8" in password_problem("x7#kQ2p")
    assert "name or e-mail" in password_problem("niamh.doyle", email="niamh.doyle@example.org")


def test_long_passphrases_are_accepted_unchanged_and_no_composition_rules():
    phrase = "the kettle is on and the queue is long " * 3
    assert password_problem(phrase) is None
    assert verify_password(hash_password(phrase), phrase)
    assert password_problem("alllowercaseletters") is None
