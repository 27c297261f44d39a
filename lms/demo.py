"""Demo organisations and accounts for `make run` (idempotent: found by e-mail, never duplicated)."""
from __future__ import annotations

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Organisation, OrganisationKind, Role, User
from lms.accounts.passwords import hash_password
from lms.extensions import db

DEMO_PASSWORD = "callsafe-demo-2026"

ORGANISATIONS = [
    ("Northwind Utilities", OrganisationKind.CLIENT, "IE", "", "privacy@northwind.example"),
    ("Lisboa Contact Services", OrganisationKind.PARTNER, "PT", "DPA-2025-014", "compliance@lisboacs.example"),
    ("Atlas Customer Care", OrganisationKind.PARTNER, "MA", "DPA-2025-022 (SCC module 2)", "dpo@atlascare.example"),
]

# (e-mail, name, role, organisation, auditor scope)
PEOPLE = [
    ("admin@northwind.example", "Aoife Byrne", Role.ADMIN, "Northwind Utilities", None),
    ("trainer@northwind.example", "Tomás Walsh", Role.TRAINER, "Northwind Utilities", None),
    ("auditor@northwind.example", "Fiona Keane", Role.AUDITOR, "Northwind Utilities", None),
    ("auditor@atlascare.example", "Karim Benali", Role.AUDITOR, "Northwind Utilities", "Atlas Customer Care"),
    ("agent@northwind.example", "Niamh Doyle", Role.AGENT, "Northwind Utilities", None),
    ("sean@northwind.example", "Seán Murphy", Role.AGENT, "Northwind Utilities", None),
    ("agent@lisboacs.example", "Inês Carvalho", Role.AGENT, "Lisboa Contact Services", None),
    ("rui@lisboacs.example", "Rui Costa", Role.AGENT, "Lisboa Contact Services", None),
    ("agent@atlascare.example", "Yasmine El Idrissi", Role.AGENT, "Atlas Customer Care", None),
    ("omar@atlascare.example", "Omar Tazi", Role.AGENT, "Atlas Customer Care", None),
]


def ensure_demo_accounts() -> list[User]:
    """Create whatever demo organisation or account is missing; return all demo users."""
    orgs: dict[str, Organisation] = {
        o.name: o for o in db.session.scalars(select(Organisation).where(
            Organisation.name.in_([name for name, *_ in ORGANISATIONS])))
    }
    for name, kind, country, contract, contact in ORGANISATIONS:
        if name not in orgs:
            orgs[name] = accounts.save_organisation(None, accounts.OrganisationData(
                name=name, kind=kind, country=country, contract_reference=contract, contact_email=contact))
    existing = {u.email: u for u in db.session.scalars(select(User).where(
        User.email.in_([email for email, *_ in PEOPLE])))}
    password_hash = hash_password(DEMO_PASSWORD)
    users = []
    for email, name, role, org_name, scope in PEOPLE:
        user = existing.get(email)
        if user is None:
            user = accounts.create_user(None, accounts.UserData(
                email=email, name=name, role=role, organisation_id=orgs[org_name].id,
                scope_organisation_id=orgs[scope].id if scope else None))
            user.password_hash = password_hash
        users.append(user)
    db.session.flush()
    return users
