"""Uploaded images behind one interface: a local folder (default) or S3. The only code that touches either."""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import uuid
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import IO

from flask import current_app, redirect, send_from_directory, url_for
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.exceptions import NotFound

from .errors import PayloadTooLarge, UnsupportedMediaType

logger = logging.getLogger(__name__)

# Keys are made here only; this pattern is checked before any key reaches a filesystem path.
KEY_PATTERN = re.compile(r"^[a-z]+/[0-9a-f]{2}/[0-9a-f]{32}(_thumb)?\.(jpg|png|webp)$")
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
CONTENT_TYPES = {ext: content_type for ext, content_type in FORMATS.values()}
NOT_AN_IMAGE = "The file is not a JPEG, PNG or WebP image."


def is_valid_key(key: str) -> bool:
    """True when `key` has the shape of a key this module made (no path tricks possible)."""
    return bool(KEY_PATTERN.match(key or ""))


class Storage(ABC):
    """Where uploaded files live."""

    @abstractmethod
    def save(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`."""

    @abstractmethod
    def open(self, key: str) -> bytes:
        """Return the bytes under `key`; raises FileNotFoundError."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key`; a missing key is fine."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True when `key` is stored."""

    @abstractmethod
    def url(self, key: str) -> str:
        """A URL a browser can fetch the file from."""


class LocalStorage(Storage):
    """Files under a folder on this machine (UPLOAD_FOLDER), served by the main.uploaded_file route."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        if not is_valid_key(key):
            raise FileNotFoundError(key)
        return os.path.join(self.root, *key.split("/"))

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def open(self, key: str) -> bytes:
        with open(self._path(key), "rb") as handle:
            return handle.read()

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        try:
            return os.path.isfile(self._path(key))
        except FileNotFoundError:
            return False

    def url(self, key: str) -> str:
        return url_for("main.uploaded_file", key=key)


class S3Storage(Storage):
    """Objects in an S3 bucket (or any S3-compatible endpoint); browsers get presigned URLs."""

    URL_SECONDS = 3600

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1"):
        if not bucket:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self.bucket, self.endpoint_url, self.region = bucket, endpoint_url, region
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region)
        return self._client

    def save(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                               CacheControl="public, max-age=31536000, immutable")

    def open(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError:
            return False

    def url(self, key: str) -> str:
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                  ExpiresIn=self.URL_SECONDS)


def get_storage() -> Storage:
    """The app's storage backend (STORAGE_BACKEND), built once per app."""
    storage = current_app.extensions.get("abode_storage")
    if storage is None:
        config = current_app.config
        backend = config["STORAGE_BACKEND"]
        if backend == "local":
            storage = LocalStorage(config["UPLOAD_FOLDER"])
        elif backend == "s3":
            storage = S3Storage(config["S3_BUCKET"], config.get("S3_ENDPOINT_URL"), config.get("S3_REGION", "us-east-1"))
        else:
            raise RuntimeError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")
        current_app.extensions["abode_storage"] = storage
    return storage


@dataclass
class ImageInfo:
    """What save_image stored."""

    key: str
    width: int
    height: int
    content_type: str
    size: int
    thumbnail_key: str | None = None


def _read_limited(file: IO[bytes], max_bytes: int) -> bytes:
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The image is larger than {max_bytes // (1024 * 1024)} MB.")
    if not data:
        raise UnsupportedMediaType(NOT_AN_IMAGE)
    return data


def _decode(data: bytes) -> Image.Image:
    """Open and fully decode the bytes; raises UnsupportedMediaType or PayloadTooLarge (decompression bomb)."""
    max_pixels = current_app.config["IMAGE_MAX_PIXELS"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise UnsupportedMediaType(NOT_AN_IMAGE)
                if probe.width * probe.height > max_pixels:
                    raise PayloadTooLarge("The image has too many pixels to process.")
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PayloadTooLarge("The image has too many pixels to process.") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise UnsupportedMediaType(NOT_AN_IMAGE) from None
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Re-encode without metadata (EXIF, GPS, ICC comments are not copied)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif fmt == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def save_image(file: IO[bytes], *, kind: str, max_bytes: int, thumbnail_width: int | None = None) -> ImageInfo:
    """Check that `file` really is a JPEG/PNG/WebP, re-encode it without EXIF, store it (and a thumbnail).

    Returns the stored ImageInfo. Raises PayloadTooLarge (over max_bytes, or a decompression bomb) and
    UnsupportedMediaType (anything that is not a real image of those formats).
    """
    if not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"bad storage kind {kind!r}")
    data = _read_limited(getattr(file, "stream", file), max_bytes)
    image = _decode(data)
    fmt = image.format
    ext, content_type = FORMATS[fmt]
    image = ImageOps.exif_transpose(image)
    encoded = _encode(image, fmt)
    name = uuid.uuid4().hex
    key = f"{kind}/{name[:2]}/{name}.{ext}"
    storage = get_storage()
    storage.save(key, encoded, content_type)
    info = ImageInfo(key=key, width=image.width, height=image.height, content_type=content_type, size=len(encoded))
    if thumbnail_width:
        thumb = image.copy()
        if thumb.width > thumbnail_width:
            height = max(1, round(thumb.height * thumbnail_width / thumb.width))
            thumb = thumb.resize((thumbnail_width, height), Image.Resampling.LANCZOS)
        info.thumbnail_key = f"{kind}/{name[:2]}/{name}_thumb.{ext}"
        storage.save(info.thumbnail_key, _encode(thumb, fmt), content_type)
    logger.info("stored image %s (%sx%s, %s bytes)", key, info.width, info.height, info.size)
    return info


def thumbnail_key_for(key: str) -> str:
    """The thumbnail key that goes with an image key."""
    stem, ext = key.rsplit(".", 1)
    return f"{stem}_thumb.{ext}"


def delete_image(key: str | None) -> None:
    """Delete an image and its thumbnail; missing files are fine."""
    if not key or not is_valid_key(key):
        return
    storage = get_storage()
    storage.delete(key)
    storage.delete(thumbnail_key_for(key))


def image_url(key: str | None) -> str | None:
    """The URL of a stored image, or None."""
    return get_storage().url(key) if key else None


def local_file_response(key: str):
    """Serve a stored file from the local folder (404 for anything else), or redirect to S3."""
    storage = get_storage()
    if not is_valid_key(key):
        raise NotFound()
    if isinstance(storage, S3Storage):
        return redirect(storage.url(key))
    if not storage.exists(key):
        raise NotFound()
    response = send_from_directory(storage.root, key, mimetype=CONTENT_TYPES[key.rsplit(".", 1)[1]],
                                   max_age=31536000)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
