"""Uploads are kept at a sensible long edge, refuse decompression bombs with 422, and are served with their real
content type and nosniff (#16 "Doors" uploads, defect 12)."""

from __future__ import annotations

import io

from PIL import Image

from ..support.factories import make_listing, make_user
from ..support.images import make_bomb, make_jpeg, make_png


def _post(client, url, headers, field, data, name):
    return client.post(url, headers=headers, content_type="multipart/form-data",
                       data={field: (io.BytesIO(data), name)})


def _served(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response, Image.open(io.BytesIO(response.data))


def test_a_large_avatar_is_kept_at_512_px_on_its_long_edge(client, auth_headers):
    response = _post(client, "/api/v1/profile/photo", auth_headers(make_user()), "photo",
                     make_jpeg(width=3000, height=2000, exif=True), "me.jpg")
    assert response.status_code == 200
    served, image = _served(client, response.get_json()["avatar_url"])
    assert image.size == (512, 341)
    assert served.content_type == "image/jpeg" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert not image.getexif()  # camera, GPS position: gone


def test_a_large_listing_photo_is_kept_at_2560_px_and_its_thumbnail_at_480(client, auth_headers):
    listing = make_listing()
    response = _post(client, f"/api/v1/properties/{listing.id}/images", auth_headers(listing.host), "image",
                     make_png(width=2000, height=3000), "tall.png")
    assert response.status_code == 201
    served, full = _served(client, response.get_json()["url"])
    assert full.size == (1707, 2560) and served.content_type == "image/png"
    assert _served(client, response.get_json()["thumbnail_url"])[1].width == 480


def test_the_long_edge_is_a_setting(make_app, auth_headers):
    app = make_app(AVATAR_MAX_EDGE=100)
    client = app.test_client()
    response = _post(client, "/api/v1/profile/photo", auth_headers(make_user()), "photo",
                     make_jpeg(width=400, height=200), "me.jpg")
    assert _served(client, response.get_json()["avatar_url"])[1].size == (100, 50)


def test_a_small_image_is_never_enlarged(client, auth_headers):
    response = _post(client, "/api/v1/profile/photo", auth_headers(make_user()), "photo",
                     make_jpeg(width=64, height=48), "me.jpg")
    assert _served(client, response.get_json()["avatar_url"])[1].size == (64, 48)


def test_a_decompression_bomb_avatar_is_422_on_the_photo_field(client, auth_headers):
    user = make_user()
    response = _post(client, "/api/v1/profile/photo", auth_headers(user), "photo", make_bomb(), "bomb.png")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and list(error["fields"]) == ["photo"]
    assert client.get("/api/v1/profile", headers=auth_headers(user)).get_json()["avatar_url"] is None
