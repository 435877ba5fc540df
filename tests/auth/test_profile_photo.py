"""Profile photos over the API: real images only, size limit, EXIF stripped, served with the right type."""

from __future__ import annotations

import io

from PIL import Image

from ..support.factories import make_user
from ..support.images import make_jpeg, make_png, oversized_jpeg


def upload(client, headers, data: bytes, filename: str = "me.jpg", field: str = "photo"):
    return client.post("/api/v1/profile/photo", headers=headers, content_type="multipart/form-data",
                       data={field: (io.BytesIO(data), filename)})


def test_photo_upload_sets_avatar_url_and_strips_exif(client, app, auth_headers):
    user = make_user()
    response = upload(client, auth_headers(user), make_jpeg(width=800, height=600, exif=True))
    assert response.status_code == 200
    url = response.get_json()["avatar_url"]
    assert url and url.startswith("/uploads/avatars/")
    served = client.get(url)
    assert served.status_code == 200 and served.content_type == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (512, 384)  # kept at AVATAR_MAX_EDGE
    assert not image.getexif() and "exif" not in image.info


def test_photo_png_keeps_png(client, app, auth_headers):
    response = upload(client, auth_headers(make_user()), make_png(), filename="me.png")
    assert response.status_code == 200
    assert client.get(response.get_json()["avatar_url"]).content_type == "image/png"


def test_photo_replacing_deletes_old_file(client, app, auth_headers):
    headers = auth_headers(make_user())
    first = upload(client, headers, make_jpeg()).get_json()["avatar_url"]
    second = upload(client, headers, make_jpeg()).get_json()["avatar_url"]
    assert first != second
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200


def test_photo_text_file_posing_as_jpeg_is_415(client, app, auth_headers):
    response = upload(client, auth_headers(make_user()), b"hello, I am text" * 10, filename="cat.jpg")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_photo_over_5_mib_is_413(client, app, auth_headers):
    response = upload(client, auth_headers(make_user()), oversized_jpeg(5 * 1024 * 1024 + 10))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_photo_over_request_limit_is_413(client, app, auth_headers):
    response = upload(client, auth_headers(make_user()), b"\xff" * (12 * 1024 * 1024))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_photo_missing_field_is_422(client, app, auth_headers):
    response = upload(client, auth_headers(make_user()), make_jpeg(), field="picture")
    assert response.status_code == 422 and "photo" in response.get_json()["error"]["fields"]


def test_photo_requires_token(client):
    assert upload(client, {}, make_jpeg()).status_code == 401


def test_uploads_route_refuses_paths_outside_uploads(client):
    for path in ("/uploads/../config.py", "/uploads/avatars/../../wsgi.py", "/uploads/%2e%2e/config.py",
                 "/uploads/avatars/00/notahexkey.jpg"):
        assert client.get(path).status_code == 404, path
