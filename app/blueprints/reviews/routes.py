"""Review pages: leave a review of a stay, the host's Reviews page with replies; and the helpers that show
reviews on the listing page and the review buttons on the Trips page."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for

from ...authz import current_account, host_required, login_required
from ...errors import BadRequest, DomainError, NotFoundError, PermissionDenied
from ...extensions import db
from ...forms_util import show_error
from ...models import Booking, Listing
from ...pagination import page_args
from ...rate_limits import write_limit
from . import bp, services
from .forms import SUB_RATING_LABELS, ResponseForm, ReviewForm

logger = logging.getLogger(__name__)

LISTING_REVIEWS_PER_PAGE, HOST_REVIEWS_PER_PAGE = 6, 20


@bp.route("/bookings/<int:booking_id>/review", methods=["GET", "POST"])
@login_required
@write_limit("review")
def new(booking_id: int):
    """Leave a review of a completed stay (its guest, within 14 days of check-out)."""
    user = current_account()
    form = ReviewForm()
    try:
        booking = services.reviewable_booking(booking_id, user)
    except (NotFoundError, PermissionDenied):
        raise
    except DomainError as exc:  # not completed, window closed, already reviewed: say so instead of a form
        return render_template("reviews/new.html", form=None, booking=db.get_or_404(Booking, booking_id),
                               problem=exc.message)
    if form.validate_on_submit():
        try:
            services.create_review(author=user, booking_id=booking.id, **form.review())
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash("Thanks! Your review is published.", "success")
            return redirect(url_for("listings.detail", listing_id=booking.listing_id, _anchor="reviews"))
    return render_template("reviews/new.html", form=form, booking=booking, problem=None,
                           labels=SUB_RATING_LABELS)


@bp.get("/host/reviews")
@host_required
def host_index():
    """The reviews of the host's listings, newest first, with a reply form under each unanswered one."""
    page, _per_page = page_args(request.args)
    result = services.list_host_reviews(current_account(), page, HOST_REVIEWS_PER_PAGE)
    return render_template("reviews/host_index.html", result=result, form=ResponseForm(), labels=SUB_RATING_LABELS)


@bp.post("/host/reviews/<int:review_id>/respond")
@host_required
@write_limit("review")
def respond(review_id: int):
    """Post the host's reply to one review; back to the Reviews page."""
    form = ResponseForm()  # CSRFProtect has checked the token; the service checks who replies before the text
    try:
        services.respond_to_review(review_id, current_account(), form.body.data or "")
    except (NotFoundError, PermissionDenied):
        raise  # someone else's review: 404 or 403, whatever the form held
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        flash("Your reply is posted.", "success")
    return redirect(url_for(".host_index", _anchor=f"review-{review_id}"))


def listing_reviews(listing: Listing) -> dict:
    """What the listing page's Reviews section shows: a page of visible reviews (?reviews_page=) and the
    sub-rating averages."""
    try:
        page, _per_page = page_args({"page": request.args.get("reviews_page", 1)})
    except BadRequest:
        page = 1
    return {"result": services.list_listing_reviews(listing.id, page, LISTING_REVIEWS_PER_PAGE, current_account()),
            "averages": services.sub_rating_averages(listing.id), "labels": SUB_RATING_LABELS}


def review_states(bookings: list[Booking]) -> dict[int, str]:
    """{booking id: "open" or "reviewed"} for the Trips page's "Leave a review" and "Reviewed" marks."""
    return services.review_states(bookings)
