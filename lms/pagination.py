"""Offset pagination for SELECT statements: one COUNT and one page query, whatever the size."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from lms.extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(query: Select, number: int, per_page: int = 25) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(max(1, number), max(1, -(-total // per_page)))
    items = list(db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)))
    return Page(items, number, per_page, total)


def paginate_rows(query: Select, number: int, per_page: int = 25, total: int | None = None) -> Page:
    """Like paginate, for SELECTs of several columns: items are rows with named fields.

    Pass `total` when the caller already knows it, to save the COUNT query.
    """
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(max(1, number), max(1, -(-total // per_page)))
    items = list(db.session.execute(query.limit(per_page).offset((number - 1) * per_page)))
    return Page(items, number, per_page, total)
