"""A listing's photos: add at the end of the gallery, delete and close the gap, move (0 is the cover).

Each change locks the listing's row first, so two uploads or moves of one listing queue and the positions stay
0..n-1 without gaps. Files go through app/storage.py; a change that fails keeps no file.
"""

from __future__ import annotations

import logging
from typing import IO, Any

from flask import current_app
from sqlalchemy import func, select

from ... import search_cache, storage
from ...errors import NotFoundError, PermissionDenied, ValidationFailed
from ...extensions import db
from ...models import Listing, ListingImage, User
from .access import can_manage, lock_listing

logger = logging.getLogger(__name__)

MAX_IMAGES = 30
THUMBNAIL_WIDTH = 480
MISSING_IMAGE = "Attach an image in the multipart field 'image'."


def _lock(listing: Listing) -> None:
    """Serialise photo changes of one listing (SELECT ... FOR UPDATE on its row)."""
    lock_listing(listing.id)


def _renumber(listing: Listing) -> None:
    images = sorted(listing.images, key=lambda image: (image.position, image.id))
    for position, image in enumerate(images):
        image.position = position
    listing.images.sort(key=lambda image: image.position)


def add_image(listing: Listing, *, actor: User, file: IO[bytes] | None) -> ListingImage:
    """Store a photo at the end of the listing's gallery; `file` None is a request that attached none.
    Raises ValidationFailed, PermissionDenied, 413, 415."""
    if not can_manage(actor, listing):  # before anything about the file: an outsider learns nothing more
        raise PermissionDenied("Only the listing's host or an admin can change its photos.")
    if file is None:
        raise ValidationFailed({"image": [MISSING_IMAGE]})
    info = storage.save_image(file, kind="listings", max_bytes=current_app.config["LISTING_IMAGE_MAX_BYTES"],
                              thumbnail_width=THUMBNAIL_WIDTH, max_edge=current_app.config["LISTING_IMAGE_MAX_EDGE"])
    try:
        _lock(listing)
        count, last = db.session.execute(
            select(func.count(), func.max(ListingImage.position)).where(ListingImage.listing_id == listing.id)
        ).one()
        if count >= MAX_IMAGES:
            raise ValidationFailed({"image": [f"A listing can have at most {MAX_IMAGES} photos."]})
        image = ListingImage(listing_id=listing.id, key=info.key, thumbnail_key=info.thumbnail_key,
                              position=0 if last is None else last + 1, width=info.width, height=info.height)
        db.session.add(image)
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage.delete_image(info.key)
        raise
    search_cache.bump()
    logger.info("image %s added to listing %s", image.id, listing.id)
    return image


def _get_image(listing: Listing, image_id: int) -> ListingImage:
    image = db.session.get(ListingImage, image_id)
    if image is None or image.listing_id != listing.id:
        raise NotFoundError("Photo not found.")
    return image


def delete_image(listing: Listing, *, actor: User, image_id: int) -> None:
    """Remove a photo and close the gap in the order. Raises PermissionDenied, NotFoundError."""
    if not can_manage(actor, listing):
        raise PermissionDenied("Only the listing's host or an admin can change its photos.")
    _lock(listing)
    image = _get_image(listing, image_id)
    key = image.key
    listing.images.remove(image)
    db.session.delete(image)
    _renumber(listing)
    db.session.commit()
    storage.delete_image(key)
    search_cache.bump()
    logger.info("image %s removed from listing %s", image_id, listing.id)


def move_image(listing: Listing, *, actor: User, image_id: int, position: Any) -> ListingImage:
    """Move a photo to `position` (0 is the cover; past the end means last). Raises 403, 404, ValidationFailed."""
    if not can_manage(actor, listing):
        raise PermissionDenied("Only the listing's host or an admin can change its photos.")
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise ValidationFailed({"position": ["Must be a whole number from 0."]})
    _lock(listing)
    image = _get_image(listing, image_id)
    ordered = [i for i in sorted(listing.images, key=lambda i: (i.position, i.id)) if i.id != image.id]
    ordered.insert(min(position, len(ordered)), image)
    for index, item in enumerate(ordered):
        item.position = index
    db.session.commit()
    search_cache.bump()
    logger.info("image %s of listing %s moved to %s", image.id, listing.id, image.position)
    return image
