"""Review JSON routes under /api/v1 (docs/api.md "Reviews")."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import get_current_user

from ...authz import current_account, login_required
from ...openapi import api_doc
from ...pagination import page_args
from ...rate_limits import write_limit
from ...validation import load_json
from . import api_bp, schemas, services


@api_bp.post("/reviews")
@login_required
@write_limit("review")
@api_doc(summary="Review a completed stay (its guest)", body=schemas.ReviewInputSchema,
         response=schemas.ReviewSchema, status=201, errors=(403, 404, 409, 422))
def create_review():
    """Until 14 days after check-out, once per booking (409 `already_reviewed`); 422 for a booking that is not
    completed or whose window closed."""
    review = services.create_review(author=get_current_user(), **load_json(schemas.ReviewInputSchema()))
    return schemas.review_to_dict(review), 201


@api_bp.get("/properties/<int:listing_id>/reviews")
@api_doc(summary="A listing's reviews, newest first", response=schemas.ReviewPageSchema, errors=(400, 404))
def list_listing_reviews(listing_id: int):
    """Paginated; reviews an admin hid are left out. 404 for a missing or deleted listing, and for an unpublished
    one to anyone but its host and admins."""
    page, per_page = page_args(request.args)
    return services.list_listing_reviews(listing_id, page, per_page, current_account()).to_dict(
        schemas.review_to_dict)


@api_bp.get("/reviews/<int:review_id>")
@api_doc(summary="One review", response=schemas.ReviewSchema, errors=(404,))
def get_review(review_id: int):
    """A hidden review answers 404, and so does a review of a deleted listing, or of an unpublished one to anyone
    but its host and admins."""
    return schemas.review_to_dict(services.get_review(review_id, current_account()))


@api_bp.post("/reviews/<int:review_id>/response")
@login_required
@write_limit("review")
@api_doc(summary="Reply to a review (the listing's host), once", body=schemas.ResponseInputSchema,
         response=schemas.ReviewSchema, status=201, errors=(403, 404, 409, 422))
def respond_to_review(review_id: int):
    """409 `already_responded` for a second reply."""
    body = load_json(schemas.ResponseInputSchema())["body"]
    return schemas.review_to_dict(services.respond_to_review(review_id, get_current_user(), body)), 201
