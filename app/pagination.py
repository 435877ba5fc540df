"""Pagination as the contract has it: page from 1, per_page default 20 clamped to 100."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from .errors import BadRequest
from .extensions import db

DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_PAGE = 20, 100, 100_000


@dataclass
class Page:
    """One page of results and the numbers the contract reports."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return (self.total + self.per_page - 1) // self.per_page if self.total else 0

    def to_dict(self, serialise: Callable[[Any], dict]) -> dict:
        """The contract's page object with each item serialised."""
        return {"items": [serialise(item) for item in self.items], "page": self.page, "per_page": self.per_page,
                "total": self.total, "pages": self.pages}


def page_args(args) -> tuple[int, int]:
    """(page, per_page) from query arguments, a blank one as absent (as a page's form sends it); BadRequest when
    they are not whole numbers."""
    try:
        page = int(args.get("page") or 1)
        per_page = int(args.get("per_page") or DEFAULT_PER_PAGE)
    except (TypeError, ValueError):
        raise BadRequest("page and per_page must be whole numbers.",
                         fields={"page": ["must be a whole number"]}) from None
    if page < 1 or page > MAX_PAGE:
        raise BadRequest(f"page must be between 1 and {MAX_PAGE}.", fields={"page": ["out of range"]})
    return page, min(max(per_page, 1), MAX_PER_PAGE)


def paginate(query: Select, page: int, per_page: int) -> Page:
    """Run `query` for one page and count its total."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, page=page, per_page=per_page, total=total)
