"""HTML pages for listings: the host's dashboard, the listing form and the public listing page (the calendar
page is the calendar's, calendar/routes.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for

from ... import cancellation
from ...authz import current_account, host_required
from ...errors import DomainError
from ...forms_util import show_error
from ...models import Listing
from ...pagination import page_args
from ...rate_limits import write_limit
from ...validation import load_data
from . import bp, schemas, services
from .forms import (
    LISTING_ERROR_FIELDS,
    ConfirmForm,
    ListingForm,
    listing_form_data,
)

logger = logging.getLogger(__name__)

DASHBOARD_PER_PAGE = 12
CHECK_IN_TIME, CHECK_OUT_TIME = "15:00", "11:00"


@bp.get("/host/listings")
@host_required
def index():
    """My listings: the host's dashboard with a card per listing."""
    page, _per_page = page_args(request.args)
    result = services.list_host_listings(current_account(), page, DASHBOARD_PER_PAGE)
    return render_template("listings/index.html", result=result)


def save_listing(form: ListingForm, save: Callable[..., Listing]) -> Listing | None:
    """Validate a posted listing form and `save` its data; None (errors beside the fields) when that fails.

    The form's data is loaded by the API's schema (schemas.ListingInputSchema) even when the form itself is
    invalid, so every problem shows at once.
    """
    if not form.is_submitted():
        return None
    valid = form.validate()
    try:
        values = load_data(schemas.ListingInputSchema(), form.to_data())
        if valid:
            return save(**values)
    except DomainError as exc:
        show_error(form, exc, LISTING_ERROR_FIELDS, only_new=not valid)
    return None


@bp.route("/host/listings/new", methods=["GET", "POST"])
@host_required
@write_limit("listing")
def new():
    """Create a listing; then on to its photos."""
    form = ListingForm(currency=current_account().preferred_currency)
    listing = save_listing(form, lambda **values: services.create_listing(host=current_account(), **values))
    if listing is not None:
        flash(f"“{listing.title}” is live. Add a few photos so guests can see it.", "success")
        return redirect(url_for(".photos", listing_id=listing.id))
    return render_template("listings/new.html", form=form)


@bp.route("/host/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@host_required
def edit(listing_id: int):
    """Change a listing's details."""
    listing = services.get_managed_listing(listing_id, current_account())
    form = ListingForm() if request.method == "POST" else ListingForm(data=listing_form_data(listing))
    if save_listing(form, lambda **values: services.update_listing(listing, actor=current_account(), **values)):
        flash(f"“{listing.title}” is saved.", "success")
        return redirect(url_for(".index"))
    return render_template("listings/edit.html", form=form, listing=listing)


@bp.post("/host/listings/<int:listing_id>/delete")
@host_required
def delete(listing_id: int):
    """Delete a listing (refused while it has upcoming bookings)."""
    listing = services.get_managed_listing(listing_id, current_account())
    if ConfirmForm().validate_on_submit():
        try:
            services.delete_listing(listing, actor=current_account())
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash(f"“{listing.title}” was deleted.", "success")
    return redirect(url_for(".index"))


@bp.get("/listings/<int:listing_id>")
def detail(listing_id: int):
    """The public page of a listing; its host and admins also see it while it is unpublished, with a notice."""
    listing = services.get_listing(listing_id, current_account())
    return render_template("listings/detail.html", listing=listing,
                           policy_summary=cancellation.summary(listing.cancellation_policy),
                           can_manage=services.can_manage(current_account(), listing),
                           check_in=CHECK_IN_TIME, check_out=CHECK_OUT_TIME)


from . import photos_routes  # noqa: E402,F401  (the photo manager's routes, on the same blueprint)
