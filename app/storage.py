"""Uploaded images behind one interface (local folder or S3): the only code that touches either."""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import tempfile
import uuid
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from typing import IO

import boto3
from botocore.exceptions import ClientError
from flask import current_app, redirect, send_from_directory, url_for
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from .errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

logger = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[a-z]+/[0-9a-f]{2}/[0-9a-f]{32}(_thumb)?\.(jpg|png|webp)$")  # always fullmatch
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
SAVE_OPTIONS = {"JPEG": {"quality": 85, "optimize": True, "progressive": True}, "PNG": {}, "WEBP": {"quality": 85}}
CONTENT_TYPES = {ext: content_type for ext, content_type in FORMATS.values()}
ONE_YEAR = 31536000


def is_valid_key(key: object) -> bool:
    """Return True when `key` has the exact shape of a key this module made (no path tricks possible)."""
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None


def thumbnail_key_for(key: str) -> str:
    """Return the thumbnail key that goes with an image key."""
    return "_thumb.".join(key.rsplit(".", 1))


class Storage(ABC):
    """Where uploaded files live."""

    @abstractmethod
    def save(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` (LocalStorage raises FileNotFoundError for a key this module did not make)."""

    @abstractmethod
    def open(self, key: str) -> bytes:
        """Return the bytes under `key`; raises FileNotFoundError when missing."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key`; a missing key is fine."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Return True when `key` is stored."""

    @abstractmethod
    def url(self, key: str) -> str:
        """Return a URL a browser can fetch the file from."""


class LocalStorage(Storage):
    """Files under a folder on this machine (UPLOAD_FOLDER), served by the main.uploaded_file route."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        if not is_valid_key(key):  # the only gate between a string and the filesystem
            raise FileNotFoundError(key)
        return os.path.join(self.root, *key.split("/"))

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a front-end web server may serve this folder
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def open(self, key: str) -> bytes:
        with open(self._path(key), "rb") as handle:
            return handle.read()

    def delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def exists(self, key: str) -> bool:
        return is_valid_key(key) and os.path.isfile(self._path(key))

    def url(self, key: str) -> str:
        return url_for("main.uploaded_file", key=key)


class S3Storage(Storage):
    """Objects in an S3 bucket (or an S3-compatible endpoint); browsers get presigned URLs."""

    CACHE_CONTROL = f"public, max-age={ONE_YEAR}, immutable"  # keys are random and never rewritten

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str | None = "us-east-1"):
        if not bucket:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self.bucket, self.endpoint_url, self.region = bucket, endpoint_url, region

    @cached_property
    def client(self):
        """Return the boto3 S3 client, made on first use from its own Session (the default one is not thread-safe)."""
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region)

    def save(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, CacheControl=self.CACHE_CONTROL
        )

    def open(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)  # S3 does not mind a missing key

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise  # credentials or bucket trouble must not look like "no such file"
        return True

    def url(self, key: str) -> str:
        params = {"Bucket": self.bucket, "Key": key}
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=3600)


def get_storage() -> Storage:
    """Return the app's storage backend (STORAGE_BACKEND), built once per app; raises RuntimeError if unknown."""
    storage = current_app.extensions.get("abode_storage")
    if storage is None:
        config = current_app.config
        if (backend := config.get("STORAGE_BACKEND", "local")) == "local":
            storage = LocalStorage(config["UPLOAD_FOLDER"])
        elif backend == "s3":
            storage = S3Storage(config.get("S3_BUCKET"), config.get("S3_ENDPOINT_URL"), config.get("S3_REGION"))
        else:
            raise RuntimeError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")
        current_app.extensions["abode_storage"] = storage
    return storage


@dataclass
class ImageInfo:
    """What save_image stored: the key to keep in the database, the final size and the thumbnail key."""

    key: str
    width: int
    height: int
    content_type: str
    size: int
    thumbnail_key: str | None = None


def _read_limited(stream: IO[bytes], max_bytes: int) -> bytes:
    """Return the upload, reading at most max_bytes + 1 bytes; raises PayloadTooLarge when there are more."""
    data = bytearray()
    while len(data) <= max_bytes and (chunk := stream.read(min(max_bytes + 1 - len(data), 1 << 20))):
        data += chunk
    if len(data) > max_bytes:
        logger.warning("upload refused: more than %s bytes", max_bytes)
        raise PayloadTooLarge(f"The file is larger than {max_bytes / 1048576:.1f} MB.".replace(".0 MB", " MB"))
    return bytes(data)


@contextmanager
def _image_errors(field: str) -> Iterator[None]:
    """Turn Pillow's failures into 415 (not an image, damaged) or 422 on `field` (a decompression bomb: a file
    within the byte limit whose pixels are not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            logger.warning("upload refused: decompression bomb")
            limit = current_app.config["IMAGE_MAX_PIXELS"]
            raise ValidationFailed({field: [f"The image has too many pixels (at most {limit:,})."]}) from None
        except UnidentifiedImageError:
            logger.warning("upload refused: not a JPEG, PNG or WebP image")
            raise UnsupportedMediaType("The file is not a JPEG, PNG or WebP image.") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, struct.error):
            logger.warning("upload refused: damaged image", exc_info=True)
            raise UnsupportedMediaType("The image file is damaged or incomplete.") from None


def _decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Return the fully decoded image and its format; raises Pillow's errors (see _image_errors)."""
    with Image.open(io.BytesIO(data), formats=tuple(FORMATS)) as probe:
        fmt = "JPEG" if probe.format == "MPO" else probe.format  # MPO: a phone camera's multi-picture JPEG
        if probe.width * probe.height > max_pixels:  # checked on the header, before anything is decoded
            raise Image.DecompressionBombError(f"{probe.width}x{probe.height} is over {max_pixels} pixels")
        probe.verify()
    image = Image.open(io.BytesIO(data), formats=tuple(FORMATS))
    image.load()
    return image, fmt


def _prepare(image: Image.Image, fmt: str) -> Image.Image:
    """Return the image upright, without metadata, as RGB (RGBA for PNG/WebP with any kind of transparency)."""
    image = ImageOps.exif_transpose(image)
    alpha = fmt != "JPEG" and (image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info)
    if image.mode != (target := "RGBA" if alpha else "RGB"):
        image = image.convert(target)
    image.info = {}  # EXIF, GPS, XMP, ICC profile, comments, text chunks: savers copy some of these from info
    return image


def _fit(image: Image.Image, max_edge: int | None) -> Image.Image:
    """Return the image with its long edge at most `max_edge` pixels (aspect kept, never enlarged)."""
    if not max_edge or max(image.size) <= max_edge:
        return image
    scale = max_edge / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image, fmt: str, width: int | None = None) -> bytes:
    """Return the image encoded as `fmt`, first narrowed to `width` pixels (aspect kept, never enlarged)."""
    if width and image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    image.save(out, fmt, **SAVE_OPTIONS[fmt])  # no exif=, icc_profile= or pnginfo=: no metadata is written
    return out.getvalue()


def save_image(
    file: IO[bytes] | FileStorage, *, kind: str, max_bytes: int, thumbnail_width: int | None = None,
    max_edge: int | None = None, field: str = "image",
) -> ImageInfo:
    """Store a real JPEG/PNG/WebP re-encoded without metadata, its long edge brought down to `max_edge` pixels,
    plus a thumbnail, and return its ImageInfo.

    Raises PayloadTooLarge (over max_bytes), ValidationFailed on `field` (over IMAGE_MAX_PIXELS pixels: a
    decompression bomb) and UnsupportedMediaType (empty, damaged, or by content not one of those formats).
    Bad `kind` -> ValueError.
    """
    if not isinstance(kind, str) or not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"storage kind must be lowercase letters, not {kind!r}")
    data = _read_limited(file.stream if isinstance(file, FileStorage) else file, max_bytes)
    with _image_errors(field):
        image, fmt = _decode(data, current_app.config["IMAGE_MAX_PIXELS"])
        image = _fit(_prepare(image, fmt), max_edge)
        body = _encode(image, fmt)
        thumb = _encode(image, fmt, thumbnail_width) if thumbnail_width else None
    ext, content_type = FORMATS[fmt]
    name = uuid.uuid4().hex
    info = ImageInfo(f"{kind}/{name[:2]}/{name}.{ext}", image.width, image.height, content_type, len(body))
    storage = get_storage()
    storage.save(info.key, body, content_type)
    if thumb is not None:
        info.thumbnail_key = thumbnail_key_for(info.key)
        try:
            storage.save(info.thumbnail_key, thumb, content_type)
        except Exception:
            storage.delete(info.key)  # no image without the thumbnail the caller asked for
            raise
    logger.info("stored image %s (%sx%s, %s bytes)", info.key, info.width, info.height, info.size)
    return info


def delete_image(key: str | None) -> None:
    """Delete an image and its thumbnail; returns None. Missing files, None and invalid keys are ignored."""
    if not is_valid_key(key):
        return
    for name in (key, thumbnail_key_for(key)):
        get_storage().delete(name)
    logger.info("deleted image %s", key)


def image_url(key: str | None) -> str | None:
    """Return the URL of a stored image, or None when there is no key."""
    return get_storage().url(key) if key else None


def local_file_response(key: str):
    """Return the stored file (local backend) or a redirect to its presigned URL (S3); raises NotFound."""
    storage = get_storage()
    if not is_valid_key(key) or (isinstance(storage, LocalStorage) and not storage.exists(key)):
        raise NotFound()
    if not isinstance(storage, LocalStorage):
        return redirect(storage.url(key))
    response = send_from_directory(storage.root, key, mimetype=CONTENT_TYPES[key.rsplit(".", 1)[1]], max_age=ONE_YEAR)
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
