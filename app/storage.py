"""Uploaded images behind one interface, a local folder or S3: the only code that touches either.

Keys are random and made here only; every key must fullmatch KEY_PATTERN before it reaches a path. Pillow decides
the format from the content, the image is re-encoded without metadata, and decompression bombs get 413.
"""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import tempfile
import threading
import uuid
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import IO

import boto3
from botocore.exceptions import ClientError
from flask import current_app, redirect, send_from_directory, url_for
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from .errors import PayloadTooLarge, UnsupportedMediaType

logger = logging.getLogger(__name__)

# Keys are made here only; this pattern is checked (fullmatch) before any key reaches a filesystem path.
KEY_PATTERN = re.compile(r"^[a-z]+/[0-9a-f]{2}/[0-9a-f]{32}(_thumb)?\.(jpg|png|webp)$")
KIND_PATTERN = re.compile(r"[a-z]+")
# Pillow format -> (extension, content type). MPO is a JPEG with extra frames (many phone cameras write it).
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
OPEN_FORMATS = ("JPEG", "PNG", "WEBP")  # the only Pillow decoders that ever see uploaded bytes
CONTENT_TYPES = {ext: content_type for ext, content_type in FORMATS.values()}
NOT_AN_IMAGE = "The file is not a JPEG, PNG or WebP image."
DAMAGED = "The image file is damaged or incomplete."
TOO_MANY_PIXELS = "The image is too large to process."
ONE_YEAR = 31536000
READ_CHUNK = 1024 * 1024


def is_valid_key(key: object) -> bool:
    """True when `key` has the exact shape of a key this module made (no path tricks possible)."""
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None


def thumbnail_key_for(key: str) -> str:
    """The thumbnail key that goes with an image key."""
    stem, ext = key.rsplit(".", 1)
    return f"{stem}_thumb.{ext}"


def _require_key(key: str) -> None:
    if not is_valid_key(key):
        raise ValueError(f"not a storage key: {key!r}")


class Storage(ABC):
    """Where uploaded files live."""

    @abstractmethod
    def save(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`; raises ValueError for a key this module did not make."""
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
        if not is_valid_key(key):
            raise FileNotFoundError(key)
        return os.path.join(self.root, *key.split("/"))

    def save(self, key: str, data: bytes, content_type: str) -> None:
        _require_key(key)
        path = self._path(key)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a front-end web server may serve this folder
            os.replace(tmp, path)  # a reader never sees half a file
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
        return is_valid_key(key) and os.path.isfile(self._path(key))

    def url(self, key: str) -> str:
        return url_for("main.uploaded_file", key=key)


class S3Storage(Storage):
    """Objects in an S3 bucket (or any S3-compatible endpoint); browsers get presigned URLs."""

    URL_SECONDS = 3600
    CACHE_CONTROL = f"public, max-age={ONE_YEAR}, immutable"  # keys are random and never rewritten

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str | None = "us-east-1"):
        if not bucket:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self.bucket, self.endpoint_url, self.region = bucket, endpoint_url, region
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        """Return the boto3 S3 client, created on first use (own Session: boto3's default one is not thread-safe)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region)
        return self._client

    @staticmethod
    def _is_missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def save(self, key: str, data: bytes, content_type: str) -> None:
        _require_key(key)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                               CacheControl=self.CACHE_CONTROL)

    def open(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if self._is_missing(exc):
                raise FileNotFoundError(key) from None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)  # S3 does not mind a missing key

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if self._is_missing(exc):
                return False
            raise
        return True

    def url(self, key: str) -> str:
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                  ExpiresIn=self.URL_SECONDS)


def get_storage() -> Storage:
    """Return the app's storage backend (STORAGE_BACKEND), built once per app; raises RuntimeError if unknown."""
    storage = current_app.extensions.get("abode_storage")
    if storage is None:
        config = current_app.config
        backend = config.get("STORAGE_BACKEND", "local")
        if backend == "local":
            storage = LocalStorage(config["UPLOAD_FOLDER"])
        elif backend == "s3":
            storage = S3Storage(config.get("S3_BUCKET"), config.get("S3_ENDPOINT_URL"),
                                config.get("S3_REGION") or "us-east-1")
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
    """Return the upload's bytes, reading at most max_bytes + 1; raises PayloadTooLarge or UnsupportedMediaType."""
    chunks, remaining = [], max_bytes + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        logger.warning("upload refused: more than %s bytes", max_bytes)
        raise PayloadTooLarge(f"The file is larger than {max_bytes / 1048576:.1f} MB.".replace(".0 MB", " MB"))
    if not data:
        raise UnsupportedMediaType("The file is empty.")
    return data


@contextmanager
def _image_errors() -> Iterator[None]:
    """Turn Pillow's failures into 415 (not an image, damaged) or 413 (decompression bomb)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            logger.warning("upload refused: decompression bomb")
            raise PayloadTooLarge(TOO_MANY_PIXELS) from None
        except UnidentifiedImageError:
            logger.warning("upload refused: not a JPEG, PNG or WebP image")
            raise UnsupportedMediaType(NOT_AN_IMAGE) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, struct.error):
            logger.warning("upload refused: damaged image", exc_info=True)
            raise UnsupportedMediaType(DAMAGED) from None


def _decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Return the fully decoded image and its format (JPEG, PNG, WEBP); raises inside _image_errors()."""
    with Image.open(io.BytesIO(data), formats=OPEN_FORMATS) as probe:
        fmt = "JPEG" if probe.format == "MPO" else probe.format
        if fmt not in FORMATS:
            raise UnidentifiedImageError(fmt)
        if probe.width * probe.height > max_pixels:
            raise Image.DecompressionBombError(f"{probe.width}x{probe.height} is over {max_pixels} pixels")
        probe.verify()
    image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
    image.load()
    return image, fmt


@cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image) -> Image.Image:
    """Return the image converted from its embedded ICC profile to sRGB (so dropping the profile keeps colours)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGB" if image.mode == "CMYK" else image.mode
        return ImageCms.profileToProfile(image, source, _srgb(), outputMode=output_mode) or image
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unusable profile: keep the pixels as they are


def _prepare(image: Image.Image, fmt: str) -> Image.Image:
    """Return the upright, sRGB image in a mode `fmt` can store, with every piece of metadata dropped."""
    image = ImageOps.exif_transpose(image)
    image = _to_srgb(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if fmt == "JPEG":
        keep = image.mode in ("RGB", "L")
    else:
        keep = image.mode in ("RGB", "RGBA", "L") and "transparency" not in image.info
    if not keep:
        image = image.convert("RGBA" if has_alpha and fmt != "JPEG" else "RGB")
    image.info = {}  # EXIF, GPS, XMP, ICC, comments, text chunks: nothing is written back
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Return the image encoded as `fmt` (no metadata: _prepare emptied image.info, no exif= is passed)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif fmt == "PNG":
        image.save(out, "PNG")
    else:
        image.save(out, "WEBP", quality=85, method=4)
    return out.getvalue()


def _thumbnail(image: Image.Image, width: int) -> Image.Image:
    """Return the image scaled to `width` pixels wide keeping its aspect ratio (never enlarged)."""
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _store(info: ImageInfo, body: bytes, thumb: bytes | None) -> None:
    """Save the image and its thumbnail; if the thumbnail fails the image is removed again."""
    storage = get_storage()
    storage.save(info.key, body, info.content_type)
    if thumb is None:
        return
    info.thumbnail_key = thumbnail_key_for(info.key)
    try:
        storage.save(info.thumbnail_key, thumb, info.content_type)
    except Exception:
        storage.delete(info.key)
        raise


def save_image(file: IO[bytes] | FileStorage, *, kind: str, max_bytes: int,
               thumbnail_width: int | None = None) -> ImageInfo:
    """Store a real JPEG/PNG/WebP re-encoded without metadata (and a thumbnail) and return its ImageInfo.

    Raises PayloadTooLarge (over max_bytes, or more than IMAGE_MAX_PIXELS pixels) and UnsupportedMediaType
    (empty, not one of those formats by content, damaged). `kind` must be lowercase letters (ValueError).
    """
    if not isinstance(kind, str) or not KIND_PATTERN.fullmatch(kind):
        raise ValueError(f"storage kind must be lowercase letters, not {kind!r}")
    if thumbnail_width is not None and thumbnail_width < 1:
        raise ValueError("thumbnail_width must be positive")
    data = _read_limited(file.stream if isinstance(file, FileStorage) else file, max_bytes)
    with _image_errors():
        image, fmt = _decode(data, current_app.config["IMAGE_MAX_PIXELS"])
        image = _prepare(image, fmt)
        body = _encode(image, fmt)
        thumb = _encode(_thumbnail(image, thumbnail_width), fmt) if thumbnail_width else None
    ext, content_type = FORMATS[fmt]
    name = uuid.uuid4().hex
    info = ImageInfo(f"{kind}/{name[:2]}/{name}.{ext}", image.width, image.height, content_type, len(body))
    _store(info, body, thumb)
    logger.info("stored image %s (%sx%s, %s bytes)", info.key, info.width, info.height, info.size)
    return info


def delete_image(key: str | None) -> None:
    """Delete an image and its thumbnail; missing files, None and invalid keys are ignored."""
    if not is_valid_key(key):
        return
    storage = get_storage()
    storage.delete(key)
    storage.delete(thumbnail_key_for(key))
    logger.info("deleted image %s", key)


def image_url(key: str | None) -> str | None:
    """Return the URL of a stored image, or None when there is no key."""
    return get_storage().url(key) if key else None


def local_file_response(key: str):
    """Return the stored file (local backend) or a redirect to its presigned URL (S3); raises NotFound."""
    if not is_valid_key(key):
        raise NotFound()
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        return redirect(storage.url(key))
    if not storage.exists(key):
        raise NotFound()
    response = send_from_directory(storage.root, key, mimetype=CONTENT_TYPES[key.rsplit(".", 1)[1]],
                                   max_age=ONE_YEAR)
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
