"""Certificate branding that admins set: one row that overrides the BRANDING_* settings.

Only certificates rendered after a change use it: issued certificates are stored
bytes and never change.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.audit.services import record
from lms.clock import UTCDateTime, now
from lms.extensions import db

SINGLE_ROW_ID = 1


class Branding(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    primary_colour: Mapped[str] = mapped_column(String(7))  # #rrggbb
    signatory_name: Mapped[str] = mapped_column(String(200))
    signatory_title: Mapped[str] = mapped_column(String(200))
    logo: Mapped[str] = mapped_column(String(100), default="")  # a file in static/pdf/; "" = default
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    # One row: the deployment's branding, not a history (the audit log keeps the changes).
    __table_args__ = (CheckConstraint(f"id = {SINGLE_ROW_ID}", name="single_row"),)


@dataclass(frozen=True)
class BrandingValues:
    company_name: str
    primary_colour: str
    signatory_name: str
    signatory_title: str
    logo: str  # "" for the default logo


def configured_branding() -> BrandingValues:
    """The BRANDING_* settings: what certificates look like until an admin changes it."""
    config = current_app.config
    return BrandingValues(config["BRANDING_COMPANY"], config["BRANDING_COLOUR"], config["BRANDING_SIGNATORY_NAME"],
                          config["BRANDING_SIGNATORY_TITLE"], config["BRANDING_LOGO"] or "")


def current_branding() -> BrandingValues:
    """The admin's branding when one was saved, else the configured one."""
    row = db.session.get(Branding, SINGLE_ROW_ID)
    if row is None:
        return configured_branding()
    return BrandingValues(row.company_name, row.primary_colour, row.signatory_name, row.signatory_title, row.logo)


def save_branding(actor, values: BrandingValues) -> Branding:
    """Store the branding for certificates rendered from now on, and audit the change; the caller commits."""
    row = db.session.get(Branding, SINGLE_ROW_ID)
    before = asdict(current_branding())
    if row is None:
        row = Branding(id=SINGLE_ROW_ID)
        db.session.add(row)
    for field, value in asdict(values).items():
        setattr(row, field, value)
    row.updated_at = now()
    row.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    changed = {field: value for field, value in asdict(values).items() if before[field] != value}
    record("branding.changed", actor=actor, target=row, changed=changed)
    return row
