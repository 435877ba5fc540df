"""HTML pages of the photo manager: upload (XHR JSON or plain form), reorder and delete a listing's photos."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from ...authz import current_account, host_required
from ...errors import DomainError, api_error
from ...models import Listing
from ...rate_limits import write_limit
from . import bp, schemas, services
from .forms import ConfirmForm, PhotoMoveForm

logger = logging.getLogger(__name__)


def wants_json() -> bool:
    """True when the request asks for JSON (XHR or Accept: application/json) rather than a page."""
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def chosen_files() -> list[FileStorage]:
    """The files of the multipart field `image`, without the empty part a form sends when none is chosen."""
    return [upload for upload in request.files.getlist("image") if upload.filename]


def photos_url(listing_id: int) -> str:
    """The photo manager of a listing."""
    return url_for(".photos", listing_id=listing_id)


@bp.get("/host/listings/<int:listing_id>/photos")
@host_required
def photos(listing_id: int):
    """The photo manager: the gallery in order, with move, cover, delete and upload controls."""
    listing = services.get_managed_listing(listing_id, current_account())
    return render_template("listings/photos.html", listing=listing, max_photos=services.MAX_IMAGES)


def add_photo_json(listing_id: int):
    """Store the one uploaded file; 201 with the image, or the contract's error body and status."""
    try:
        listing = services.get_managed_listing(listing_id, current_account())
        files = chosen_files()
        image = services.add_image(listing, actor=current_account(), file=files[0].stream if files else None)
    except DomainError as exc:
        return api_error(exc.status_code, exc.code, exc.message, exc.fields)
    return schemas.image_to_dict(image), 201


def add_photos_form(listing: Listing) -> None:
    """Store each file of a plain form post, flashing one message per failure and a count of successes."""
    files, added = chosen_files(), 0
    if not files:
        flash("Choose one or more photos first.", "warning")
    for upload in files:
        try:
            services.add_image(listing, actor=current_account(), file=upload.stream)
        except DomainError as exc:
            messages = [m for field_messages in (exc.fields or {}).values() for m in field_messages]
            flash(f"{upload.filename}: {messages[0] if messages else exc.message}", "danger")
        else:
            added += 1
    if added:
        flash(f"{added} photo{'s' if added != 1 else ''} added.", "success")


@bp.post("/host/listings/<int:listing_id>/photos")
@host_required
@write_limit("upload")
def add_photo(listing_id: int):
    """Upload photos: JSON answers for the uploader script, a redirect with messages for the plain form."""
    if wants_json():
        return add_photo_json(listing_id)
    listing = services.get_managed_listing(listing_id, current_account())
    add_photos_form(listing)
    return redirect(photos_url(listing_id))


@bp.post("/host/listings/<int:listing_id>/photos/<int:image_id>/move")
@host_required
def move_photo(listing_id: int, image_id: int):
    """Move a photo to the posted position (0 makes it the cover)."""
    listing = services.get_managed_listing(listing_id, current_account())
    form = PhotoMoveForm()
    if form.validate_on_submit():
        try:
            image = services.move_image(listing, actor=current_account(), image_id=image_id,
                                        position=form.position.data)
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash("New cover photo set." if image.position == 0 else "Photo moved.", "success")
    else:
        flash("Choose where to move the photo.", "danger")
    return redirect(photos_url(listing_id))


@bp.post("/host/listings/<int:listing_id>/photos/<int:image_id>/delete")
@host_required
def delete_photo(listing_id: int, image_id: int):
    """Delete a photo; the others close the gap."""
    listing = services.get_managed_listing(listing_id, current_account())
    if ConfirmForm().validate_on_submit():
        try:
            services.delete_image(listing, actor=current_account(), image_id=image_id)
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash("Photo deleted.", "success")
    return redirect(photos_url(listing_id))
