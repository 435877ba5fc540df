"""HTML search page: GET /search, the search bar, filters, sort and result cards over the search service."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template, request, url_for
from wtforms import SelectChoice

from ...authz import current_account
from ...errors import DomainError
from ...rate_limits import search_limit
from ...validation import load_query
from ..listings.services import list_amenities
from . import bp, schemas, services
from .forms import (
    FILTER_ARGS,
    PASSTHROUGH_ARGS,
    SORT_LABELS,
    SearchForm,
    form_values,
    has_errors,
    has_panel_errors,
    schema_args,
    show_search_error,
)

PAGE_SIZE = 18  # whole rows of two or three cards


def display_currency() -> str:
    """The `currency` argument, else the signed-in user's preferred currency, else USD."""
    user = current_account()
    return (request.args.get("currency") or "").strip().upper() or getattr(user, "preferred_currency", None) or "USD"


def url_with(**changes) -> str:
    """This search's URL with some arguments replaced (None drops one); every other argument is kept."""
    pairs = [(name, value) for name, value in request.args.items(multi=True) if name not in changes]
    pairs += [(name, value) for name, value in changes.items() if value is not None]
    query = urlencode(pairs)
    return url_for("search.index") + (f"?{query}" if query else "")


def clear_filters_url() -> str:
    """This search without the filter panel's filters (and back on page 1)."""
    return url_with(page=None, **dict.fromkeys(FILTER_ARGS))


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The page numbers to link: first, last and two either side of `page`; None marks a gap."""
    keep = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[int | None] = []
    for previous, number in zip([0, *keep], keep, strict=False):
        if number - previous > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def stay_args(query: services.SearchQuery | None) -> dict:
    """check_in / check_out / guests of a valid search, for the listing page's booking box."""
    if query is None:
        return {}
    values = {"check_in": query.check_in, "check_out": query.check_out, "guests": query.guests}
    return {name: str(value) for name, value in values.items() if value is not None}


def hidden_args() -> list[tuple[str, str]]:
    """Arguments the page has no input for (a map search's lat/lng, per_page), kept when the form is sent again."""
    return [(name, request.args[name]) for name in PASSTHROUGH_ARGS if name != "page" and request.args.get(name)]


def run(form: SearchForm) -> tuple[services.SearchQuery | None, dict | None, list[str]]:
    """(query, results, alert messages): the service's answer, or the form marked with what was wrong.

    The query string is loaded by the API's schema (SearchArgsSchema), so both answer a bad value alike.
    """
    args = schema_args(form, request.args)
    args["per_page"] = args.get("per_page") or str(PAGE_SIZE)
    try:
        query = services.search_query(**load_query(schemas.SearchArgsSchema(), args))
        if has_errors(form):  # an unreadable price was left out: no results that ignore it
            return None, None, []
        return query, services.search(query), []
    except DomainError as exc:
        return None, None, show_search_error(form, exc)


@bp.get("/search")
@search_limit
def index():
    """Search results: the bar and filters pre-filled, sort and currency menus, result cards and pagination.

    Bad input answers 400 with the form, the messages beside their inputs and no results.
    """
    form = SearchForm(formdata=form_values(request.args, display_currency()))
    form.amenities.choices = [SelectChoice(amenity.code, amenity.name) for amenity in list_amenities()]
    query, result, alerts = run(form)
    filters_active = sum(1 for name in FILTER_ARGS if request.args.get(name))
    html = render_template(
        "search/index.html",
        form=form,
        query=query,
        result=result,
        alerts=alerts,
        sorts=SORT_LABELS,
        current_sort=query.sort if query else request.args.get("sort", "relevance"),
        stay=stay_args(query),
        filters_active=filters_active,
        open_filters=has_panel_errors(form),
        url_with=url_with,
        clear_url=clear_filters_url(),
        pages=page_numbers(result["page"], result["pages"]) if result else [],
        passthrough=hidden_args(),
    )
    return html, 200 if result is not None else 400
