"""Plain factory functions for test data (they flush; tests commit when they need to)."""
from __future__ import annotations

from itertools import count

from lms.accounts.models import Organisation, OrganisationKind, Role, User
from lms.accounts.passwords import hash_password
from lms.extensions import db

PASSWORD = "correct horse battery staple"
_seq = count(1)
_hash_cache: dict[str, str] = {}


def organisation(name: str | None = None, kind: OrganisationKind = OrganisationKind.PARTNER,
                 country: str = "PT") -> Organisation:
    org = Organisation(name=name or f"Partner {next(_seq)}", kind=kind, country=country,
                       contract_reference="DPA-1", contact_email="contact@partner.example")
    db.session.add(org)
    db.session.flush()
    return org


def user(role: Role = Role.AGENT, org: Organisation | None = None, *, email: str | None = None,
         name: str | None = None, scope: Organisation | None = None, password: str | None = PASSWORD,
         active: bool = True) -> User:
    n = next(_seq)
    if password and password not in _hash_cache:  # Argon2 is slow on purpose; hash once per run
        _hash_cache[password] = hash_password(password)
    person = User(email=email or f"{role.value}{n}@example.org", name=name or f"{role.label} Person {n}",
                  role=role, organisation=org or organisation(), scope_organisation=scope,
                  password_hash=_hash_cache.get(password) if password else None, active=active)
    db.session.add(person)
    db.session.flush()
    return person
