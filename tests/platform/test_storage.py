"""app/storage.py on a tiny Flask app of its own: image checks and re-encoding, the local folder, the serving
route, and the S3 backend against moto. Only the last test uses the full app (conftest fixtures)."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator

import pytest
from flask import Blueprint, Flask
from PIL import Image
from werkzeug.datastructures import FileStorage

from app import storage
from app.errors import DomainError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

from ..support.images import (
    CAMERA_MAKE,
    corrupted_png,
    make_bomb,
    make_cmyk_jpeg,
    make_gif,
    make_jpeg,
    make_mpo,
    make_png,
    make_png_with_metadata,
    make_rotated_jpeg,
    make_transparent_png,
    make_webp,
    oversized_jpeg,
    truncated_jpeg,
)

KEY_RE = re.compile(r"^[a-z]+/[0-9a-f]{2}/[0-9a-f]{32}(_thumb)?\.(jpg|png|webp)$")
MAKERS = {
    "jpeg": (make_jpeg, "image/jpeg", "JPEG"),
    "png": (make_png, "image/png", "PNG"),
    "webp": (make_webp, "image/webp", "WEBP"),
}
BUCKET = "abode-test"


def build_app(upload_folder: str, **config) -> Flask:
    """A bare Flask app with the storage settings and the main.uploaded_file route the module links to."""
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        STORAGE_BACKEND="local",
        UPLOAD_FOLDER=upload_folder,
        S3_BUCKET=BUCKET,
        S3_ENDPOINT_URL=None,
        S3_REGION="us-east-1",
        IMAGE_MAX_PIXELS=40_000_000,
    )
    app.config.update(config)
    main = Blueprint("main", __name__)
    main.add_url_rule("/uploads/<path:key>", "uploaded_file", storage.local_file_response)
    app.register_blueprint(main)
    app.register_error_handler(DomainError, lambda exc: ({"code": exc.code}, exc.status_code))
    return app


@pytest.fixture
def local_app(tmp_path) -> Iterator[Flask]:
    app = build_app(str(tmp_path / "uploads"))
    with app.test_request_context():
        yield app


@pytest.fixture
def s3_app(tmp_path, monkeypatch) -> Iterator[Flask]:
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        app = build_app(str(tmp_path / "unused"), STORAGE_BACKEND="s3")
        with app.test_request_context():
            storage.get_storage().client.create_bucket(Bucket=BUCKET)
            yield app


def save(data: bytes, **kwargs) -> storage.ImageInfo:
    kwargs.setdefault("max_bytes", 5 * 1024 * 1024)
    return storage.save_image(io.BytesIO(data), kind=kwargs.pop("kind", "tests"), **kwargs)


def stored(key: str) -> Image.Image:
    return Image.open(io.BytesIO(storage.get_storage().open(key)))


def assert_no_metadata(image: Image.Image, raw: bytes) -> None:
    assert not image.getexif() and "exif" not in image.info
    assert "icc_profile" not in image.info and "comment" not in image.info
    assert CAMERA_MAKE.encode() not in raw


# --- save_image: what is accepted and how it is stored ---


@pytest.mark.parametrize("fmt", MAKERS)
def test_save_image_real_image_stored_and_readable(local_app, fmt):
    maker, content_type, pillow_format = MAKERS[fmt]
    info = save(maker(width=120, height=80))
    assert (info.width, info.height, info.content_type, info.thumbnail_key) == (120, 80, content_type, None)
    image = stored(info.key)
    assert (image.format, image.size) == (pillow_format, (120, 80))
    assert info.size == len(storage.get_storage().open(info.key))
    assert info.key.startswith("tests/") and info.key.endswith(storage.FORMATS[pillow_format][0])


@pytest.mark.parametrize("fmt", MAKERS)
def test_save_image_exif_present_stripped(local_app, fmt):
    original = MAKERS[fmt][0](exif=True)
    assert Image.open(io.BytesIO(original)).getexif()[0x010F] == CAMERA_MAKE
    info = save(original)
    assert_no_metadata(stored(info.key), storage.get_storage().open(info.key))


def test_save_image_comment_icc_and_text_chunks_dropped(local_app):
    jpeg = save(make_jpeg(comment=b"owner: Alice Example, serial 1234"))
    assert b"Alice" not in storage.get_storage().open(jpeg.key)
    png = save(make_png_with_metadata())
    image, raw = stored(png.key), storage.get_storage().open(png.key)
    assert_no_metadata(image, raw)
    assert "Author" not in image.info and b"Alice" not in raw


def test_save_image_exif_orientation_applied_upright(local_app):
    info = save(make_rotated_jpeg(width=60, height=40, orientation=6))
    image = stored(info.key)
    assert (info.width, info.height) == image.size == (40, 60)
    assert 0x0112 not in image.getexif()


def test_save_image_filestorage_upload_accepted(local_app):
    upload = FileStorage(io.BytesIO(make_png()), filename="holiday.jpg", content_type="image/jpeg")
    info = storage.save_image(upload, kind="avatars", max_bytes=1024 * 1024)
    assert info.content_type == "image/png" and info.key.endswith(".png")  # the content decides, not the name


def test_save_image_mpo_phone_photo_stored_as_jpeg(local_app):
    info = save(make_mpo())
    assert info.content_type == "image/jpeg" and stored(info.key).format == "JPEG"


def test_save_image_cmyk_jpeg_converted_to_rgb(local_app):
    assert stored(save(make_cmyk_jpeg()).key).mode == "RGB"


def test_save_image_palette_transparency_kept_as_alpha(local_app):
    image = stored(save(make_transparent_png()).key)
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0 and image.getpixel((20, 15))[3] == 255


def test_save_image_keys_random_and_valid(local_app, tmp_path):
    keys = {save(make_png(), kind="listings").key for _ in range(5)}
    assert len(keys) == 5
    for key in keys:
        assert KEY_RE.match(key) and storage.is_valid_key(key) and key.startswith("listings/")
        assert key.split("/")[1] == key.split("/")[2][:2]
        assert (tmp_path / "uploads" / key).is_file()


@pytest.mark.parametrize("kind", ["", "Avatars", "../x", "a/b", "a1"])
def test_save_image_bad_kind_raises_value_error(local_app, kind):
    with pytest.raises(ValueError):
        save(make_png(), kind=kind)


# --- save_image: what is refused ---


@pytest.mark.parametrize(
    "data",
    [
        b"plain text pretending to be a photo\n" * 20,
        make_gif(),
        b"",
        b"\xff\xd8\xff" + b"\x00" * 64,
        b"%PDF-1.4\n" + b"0" * 100,
    ],
    ids=["text", "gif", "empty", "jpeg-magic-only", "pdf"],
)
def test_save_image_not_jpeg_png_webp_refused_415(local_app, tmp_path, data):
    upload = FileStorage(io.BytesIO(data), filename="photo.jpg", content_type="image/jpeg")
    with pytest.raises(UnsupportedMediaType) as caught:
        storage.save_image(upload, kind="tests", max_bytes=1024 * 1024)
    assert caught.value.status_code == 415
    assert not (tmp_path / "uploads").exists()  # nothing was written


@pytest.mark.parametrize(
    "data",
    [truncated_jpeg(), corrupted_png(), make_jpeg()[:200]],
    ids=["truncated-jpeg", "bad-png-checksum", "jpeg-header-only"],
)
def test_save_image_damaged_image_refused_415(local_app, data):
    with pytest.raises(UnsupportedMediaType):
        save(data)


def test_save_image_over_max_bytes_413_without_reading_everything(local_app):
    stream = io.BytesIO(oversized_jpeg(200_000))
    with pytest.raises(PayloadTooLarge) as caught:
        storage.save_image(stream, kind="tests", max_bytes=100_000)
    assert stream.tell() <= 100_001 and caught.value.status_code == 413


def test_save_image_exactly_max_bytes_accepted(local_app):
    data = make_png()
    assert save(data, max_bytes=len(data)).content_type == "image/png"


@pytest.mark.parametrize(
    "side, limit",
    [(20_000, 40_000_000), (10_000, 40_000_000), (7_000, 40_000_000), (1_200, 1_000_000)],
    ids=["pillow-error", "pillow-warning", "over-config-limit", "small-config-limit"],
)
def test_save_image_decompression_bomb_refused_422(tmp_path, side, limit):
    app = build_app(str(tmp_path / "uploads"), IMAGE_MAX_PIXELS=limit)
    bomb = make_bomb(side)
    assert len(bomb) < 100_000
    started = time.monotonic()
    with app.test_request_context(), pytest.raises(ValidationFailed) as refused:
        save(bomb)
    assert time.monotonic() - started < 2  # refused from the header, never decoded
    assert refused.value.status_code == 422 and list(refused.value.fields) == ["image"]


def test_save_image_under_pixel_limit_accepted(tmp_path):
    app = build_app(str(tmp_path / "uploads"), IMAGE_MAX_PIXELS=1_000_000)
    with app.test_request_context():
        assert save(make_png(1000, 1000)).width == 1000


# --- thumbnails ---


def test_save_image_thumbnail_480_keeps_aspect(local_app):
    info = save(make_jpeg(width=1200, height=800), thumbnail_width=480)
    assert info.thumbnail_key == info.key.replace(".jpg", "_thumb.jpg") and storage.is_valid_key(info.thumbnail_key)
    thumb = stored(info.thumbnail_key)
    assert thumb.size == (480, 320) and thumb.format == "JPEG"
    assert_no_metadata(thumb, storage.get_storage().open(info.thumbnail_key))
    assert stored(info.key).size == (1200, 800)


def test_save_image_small_image_thumbnail_not_upscaled(local_app):
    info = save(make_webp(width=100, height=50), thumbnail_width=480)
    assert stored(info.thumbnail_key).size == (100, 50)


def test_save_image_thumbnail_save_fails_image_removed(local_app, monkeypatch, tmp_path):
    real_save = storage.LocalStorage.save

    def failing_save(self, key, data, content_type):
        if "_thumb" in key:
            raise OSError("disk full")
        real_save(self, key, data, content_type)

    monkeypatch.setattr(storage.LocalStorage, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save(make_png(), thumbnail_width=32)
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]


# --- keys and the local folder ---


@pytest.mark.parametrize(
    "key",
    [
        "../config.py",
        "tests/../../x.jpg",
        "/etc/passwd",
        "tests/ab/" + "g" * 32 + ".jpg",
        "tests/ab/ab" + "0" * 30 + ".jpg\n",
        "Tests/ab/ab" + "0" * 30 + ".jpg",
        "tests/ab/ab" + "0" * 30 + ".gif",
        "tests/ab/ab" + "0" * 30 + ".jpg/../../../x",
        "tests\\ab\\ab" + "0" * 30 + ".jpg",
        "",
        None,
    ],
)
def test_local_storage_key_outside_pattern_never_reaches_filesystem(local_app, key):
    backend = storage.get_storage()
    assert not storage.is_valid_key(key) and not backend.exists(key)
    with pytest.raises(FileNotFoundError):
        backend.open(key)
    with pytest.raises(FileNotFoundError):
        backend.save(key, b"x", "image/jpeg")
    backend.delete(key)  # ignored


def test_local_storage_save_atomic_and_world_readable(local_app, tmp_path):
    key = "tests/ab/ab" + "1" * 30 + ".png"
    backend = storage.get_storage()
    backend.save(key, b"first", "image/png")
    backend.save(key, b"second", "image/png")
    folder = tmp_path / "uploads" / "tests" / "ab"
    assert [p.name for p in folder.iterdir()] == [key.split("/")[-1]]  # no temp file left behind
    assert backend.open(key) == b"second" and oct(os.stat(folder / key.split("/")[-1]).st_mode & 0o777) == "0o644"


def test_delete_image_removes_file_and_thumbnail(local_app):
    info = save(make_jpeg(), thumbnail_width=32)
    backend = storage.get_storage()
    assert backend.exists(info.key) and backend.exists(info.thumbnail_key)
    storage.delete_image(info.key)
    assert not backend.exists(info.key) and not backend.exists(info.thumbnail_key)
    storage.delete_image(info.key)  # twice is fine
    storage.delete_image(None)
    storage.delete_image("../config.py")


def test_image_url_local_points_at_uploads_route(local_app):
    info = save(make_png())
    assert storage.image_url(info.key) == f"/uploads/{info.key}"
    assert storage.image_url(None) is None and storage.image_url("") is None


def test_get_storage_same_app_built_once(local_app):
    assert storage.get_storage() is storage.get_storage()
    assert isinstance(storage.get_storage(), storage.LocalStorage)


def test_get_storage_unknown_backend_raises_runtime_error(tmp_path):
    with build_app(str(tmp_path), STORAGE_BACKEND="ftp").app_context(), pytest.raises(RuntimeError, match="ftp"):
        storage.get_storage()


def test_get_storage_s3_without_bucket_raises_runtime_error(tmp_path):
    app = build_app(str(tmp_path), STORAGE_BACKEND="s3", S3_BUCKET=None)
    with app.app_context(), pytest.raises(RuntimeError, match="S3_BUCKET"):
        storage.get_storage()


# --- the serving route ---


@pytest.mark.parametrize("fmt", MAKERS)
def test_uploaded_file_stored_key_served_with_type_and_nosniff(local_app, fmt):
    maker, content_type, _ = MAKERS[fmt]
    info = save(maker(), thumbnail_width=16)
    client = local_app.test_client()
    for key in (info.key, info.thumbnail_key):
        response = client.get(storage.image_url(key))
        assert response.status_code == 200 and response.mimetype == content_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.cache_control.max_age == 31536000
        assert response.data == storage.get_storage().open(key)


@pytest.mark.parametrize(
    "path",
    [
        "../config.py",
        "avatars/../../x",
        "..%2fconfig.py",
        "%2e%2e/%2e%2e/config.py",
        "secret.txt",
        "../secret.txt",
        "tests/ab/ab" + "2" * 30 + ".jpg",
        "tests/ab/ab" + "2" * 30 + "_thumb.png",
        "tests/ab/ab" + "2" * 30 + ".JPG",
        "/etc/passwd",
        "tests/ab/ab" + "2" * 30 + ".jpg%0a",
    ],
)
def test_uploaded_file_traversal_or_unknown_key_404(local_app, tmp_path, path):
    uploads = tmp_path / "uploads"
    uploads.mkdir(exist_ok=True)
    (uploads / "secret.txt").write_text("not for you")
    (tmp_path / "secret.txt").write_text("not for you either")
    response = local_app.test_client().get(f"/uploads/{path}", follow_redirects=True)  # "//" redirects first
    assert response.status_code == 404
    assert b"not for you" not in response.data


# --- S3 (moto) ---


def test_s3_storage_save_image_open_exists_delete(s3_app):
    backend = storage.get_storage()
    assert isinstance(backend, storage.S3Storage)
    info = save(make_jpeg(exif=True), thumbnail_width=32)
    head = backend.client.head_object(Bucket=BUCKET, Key=info.key)
    assert head["ContentType"] == "image/jpeg" and "max-age=31536000" in head["CacheControl"]
    assert backend.exists(info.key) and backend.exists(info.thumbnail_key)
    image = Image.open(io.BytesIO(backend.open(info.key)))
    assert image.size == (64, 48) and not image.getexif()
    storage.delete_image(info.key)
    assert not backend.exists(info.key) and not backend.exists(info.thumbnail_key)


def test_s3_storage_missing_key_not_found(s3_app):
    backend = storage.get_storage()
    key = "tests/ab/ab" + "3" * 30 + ".jpg"
    assert not backend.exists(key)
    with pytest.raises(FileNotFoundError):
        backend.open(key)
    backend.delete(key)  # S3 does not mind


def test_s3_storage_url_presigned_for_key(s3_app):
    info = save(make_png())
    url = storage.image_url(info.key)
    assert info.key in url and BUCKET in url and "Signature" in url and "Expires=" in url


def test_s3_uploaded_file_route_redirects_to_presigned_url(s3_app):
    info = save(make_webp())
    client = s3_app.test_client()
    response = client.get(f"/uploads/{info.key}")
    assert response.status_code == 302 and info.key in response.headers["Location"]
    assert client.get("/uploads/../config.py").status_code == 404


# --- through the full app (conftest's make_app and auth_headers) ---


@pytest.fixture
def s3_full_app(make_app, monkeypatch):
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        app = make_app(STORAGE_BACKEND="s3", S3_BUCKET=BUCKET, S3_REGION="us-east-1")
        storage.get_storage().client.create_bucket(Bucket=BUCKET)
        yield app


def test_profile_photo_api_s3_backend_returns_presigned_url(s3_full_app, auth_headers):
    from ..support.factories import make_user

    response = s3_full_app.test_client().post(
        "/api/v1/profile/photo",
        headers=auth_headers(make_user()),
        content_type="multipart/form-data",
        data={"photo": (io.BytesIO(make_png()), "me.png")},
    )
    assert response.status_code == 200
    url = response.get_json()["avatar_url"]
    assert BUCKET in url and "avatars/" in url and "Signature" in url
