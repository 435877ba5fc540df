"""The storage interface: image checks and re-encoding, local folder and S3 (moto) backends."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app import storage
from app.errors import PayloadTooLarge, UnsupportedMediaType

from .images import make_bomb, make_gif, make_jpeg, make_png, make_webp, oversized_jpeg


def save(data: bytes, **kwargs):
    kwargs.setdefault("max_bytes", 5 * 1024 * 1024)
    return storage.save_image(io.BytesIO(data), kind="tests", **kwargs)


@pytest.mark.parametrize("maker, content_type", [(make_jpeg, "image/jpeg"), (make_png, "image/png"),
                                                 (make_webp, "image/webp")])
def test_save_image_accepts_real_images(app, maker, content_type):
    info = save(maker(width=120, height=80))
    assert (info.width, info.height, info.content_type) == (120, 80, content_type)
    assert storage.is_valid_key(info.key)
    assert Image.open(io.BytesIO(storage.get_storage().open(info.key))).size == (120, 80)


def test_save_image_strips_exif(app):
    original = make_jpeg(exif=True)
    assert Image.open(io.BytesIO(original)).getexif()
    stored = storage.get_storage().open(save(original).key)
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif() and b"SpyCam" not in stored


def test_save_image_keys_are_random(app):
    data = make_png()
    assert save(data).key != save(data).key


@pytest.mark.parametrize("data", [b"plain text pretending", make_gif(), make_jpeg()[:200], b""])
def test_save_image_refuses_non_images_with_415(app, data):
    with pytest.raises(UnsupportedMediaType):
        save(data)


def test_save_image_over_limit_is_413_without_reading_everything(app):
    stream = io.BytesIO(oversized_jpeg(200_000))
    with pytest.raises(PayloadTooLarge):
        storage.save_image(stream, kind="tests", max_bytes=100_000)
    assert stream.tell() <= 100_001


def test_save_image_refuses_decompression_bomb(app):
    with pytest.raises(PayloadTooLarge):
        save(make_bomb())


def test_save_image_makes_thumbnail_keeping_aspect(app):
    info = save(make_jpeg(width=1200, height=800), thumbnail_width=480)
    thumb = Image.open(io.BytesIO(storage.get_storage().open(info.thumbnail_key)))
    assert thumb.size == (480, 320)


def test_save_image_never_upscales_thumbnail(app):
    info = save(make_png(width=100, height=50), thumbnail_width=480)
    assert Image.open(io.BytesIO(storage.get_storage().open(info.thumbnail_key))).size == (100, 50)


def test_delete_image_removes_image_and_thumbnail(app):
    info = save(make_jpeg(), thumbnail_width=32)
    storage.delete_image(info.key)
    backend = storage.get_storage()
    assert not backend.exists(info.key) and not backend.exists(info.thumbnail_key)
    storage.delete_image(info.key)  # deleting twice is fine


def test_local_backend_refuses_keys_outside_its_shape(app):
    backend = storage.get_storage()
    for key in ("../config.py", "tests/../../x.jpg", "/etc/passwd", "tests/ab/" + "g" * 32 + ".jpg"):
        assert not backend.exists(key)
        with pytest.raises(FileNotFoundError):
            backend.open(key)


def test_unknown_backend_is_refused(make_app):
    app = make_app(STORAGE_BACKEND="ftp")
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND"):
        storage.get_storage()
    assert app


@pytest.fixture
def s3_app(make_app, monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        app = make_app(STORAGE_BACKEND="s3", S3_BUCKET="abode-test", S3_REGION="us-east-1")
        storage.get_storage().client.create_bucket(Bucket="abode-test")
        yield app


def test_s3_backend_saves_serves_and_deletes(s3_app):
    info = save(make_jpeg(exif=True), thumbnail_width=32)
    backend = storage.get_storage()
    assert isinstance(backend, storage.S3Storage)
    head = backend.client.head_object(Bucket="abode-test", Key=info.key)
    assert head["ContentType"] == "image/jpeg"
    assert not Image.open(io.BytesIO(backend.open(info.key))).getexif()
    url = storage.image_url(info.key)
    assert info.key in url and "Signature" in url
    response = s3_app.test_client().get(f"/uploads/{info.key}")
    assert response.status_code == 302 and info.key in response.headers["Location"]
    storage.delete_image(info.key)
    assert not backend.exists(info.key) and not backend.exists(info.thumbnail_key)


def test_s3_profile_photo_through_api(s3_app, auth_headers):
    from .factories import make_user

    response = s3_app.test_client().post(
        "/api/v1/profile/photo", headers=auth_headers(make_user()), content_type="multipart/form-data",
        data={"photo": (io.BytesIO(make_png()), "me.png")})
    assert response.status_code == 200
    url = response.get_json()["avatar_url"]
    assert "abode-test" in url and "avatars/" in url and "Signature" in url
