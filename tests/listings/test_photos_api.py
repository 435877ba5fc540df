"""Listing photos over the API: upload with thumbnail, order, delete, permissions and bad files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.blueprints.listings import photos
from app.errors import ValidationFailed

from ..support.factories import make_listing, make_user
from ..support.images import make_bomb, make_jpeg, make_png, oversized_jpeg
from ..support.pages import csrf_token


def upload(client, listing, headers, data: bytes, name: str = "room.jpg"):
    return client.post(f"/api/v1/properties/{listing.id}/images", headers=headers,
                       content_type="multipart/form-data", data={"image": (io.BytesIO(data), name)})


def test_upload_photo_returns_urls_and_thumbnail_480_wide(client, app, auth_headers):
    listing = make_listing()
    response = upload(client, listing, auth_headers(listing.host), make_jpeg(width=1600, height=1200, exif=True))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"id", "url", "thumbnail_url", "position"} and body["position"] == 0
    full = Image.open(io.BytesIO(client.get(body["url"]).data))
    thumb = Image.open(io.BytesIO(client.get(body["thumbnail_url"]).data))
    assert full.size == (1600, 1200) and thumb.size == (480, 360)
    assert not full.getexif()
    detail = client.get(f"/api/v1/properties/{listing.id}").get_json()
    assert [image["id"] for image in detail["images"]] == [body["id"]]


def test_upload_photos_append_in_order(client, app, auth_headers):
    listing = make_listing()
    headers = auth_headers(listing.host)
    positions = [upload(client, listing, headers, make_png()).get_json()["position"] for _ in range(3)]
    assert positions == [0, 1, 2]


def test_upload_photo_by_other_host_is_403_and_anonymous_401(client, app, auth_headers):
    listing = make_listing()
    assert upload(client, listing, auth_headers(make_user(role="host")), make_jpeg()).status_code == 403
    assert upload(client, listing, {}, make_jpeg()).status_code == 401


def test_upload_text_file_named_jpg_is_415(client, app, auth_headers):
    listing = make_listing()
    response = upload(client, listing, auth_headers(listing.host), b"definitely not a jpeg" * 50)
    assert response.status_code == 415 and response.get_json()["error"]["code"] == "unsupported_media_type"


def test_upload_over_10_mib_is_413(client, app, auth_headers):
    listing = make_listing()
    response = upload(client, listing, auth_headers(listing.host), oversized_jpeg(10 * 1024 * 1024 + 1))
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"


def test_upload_decompression_bomb_is_refused(client, app, auth_headers):
    listing = make_listing()
    response = upload(client, listing, auth_headers(listing.host), make_bomb(), "bomb.png")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["image"]
    assert client.get(f"/api/v1/properties/{listing.id}").get_json()["images"] == []


def test_move_photo_reorders_others(client, app, auth_headers):
    listing = make_listing()
    headers = auth_headers(listing.host)
    ids = [upload(client, listing, headers, make_png()).get_json()["id"] for _ in range(3)]
    response = client.patch(f"/api/v1/properties/{listing.id}/images/{ids[2]}", headers=headers, json={"position": 0})
    assert response.status_code == 200 and response.get_json()["position"] == 0
    images = client.get(f"/api/v1/properties/{listing.id}").get_json()["images"]
    assert [(i["id"], i["position"]) for i in images] == [(ids[2], 0), (ids[0], 1), (ids[1], 2)]


def test_move_photo_bad_position_is_422_and_foreign_photo_404(client, app, auth_headers):
    listing, other = make_listing(), make_listing()
    headers = auth_headers(listing.host)
    image_id = upload(client, listing, headers, make_png()).get_json()["id"]
    foreign_id = upload(client, other, auth_headers(other.host), make_png()).get_json()["id"]
    url = f"/api/v1/properties/{listing.id}/images"
    assert client.patch(f"{url}/{image_id}", headers=headers, json={"position": -1}).status_code == 422
    assert client.patch(f"{url}/{image_id}", headers=headers, json={"position": "first"}).status_code == 422
    assert client.patch(f"{url}/{foreign_id}", headers=headers, json={"position": 0}).status_code == 404


def test_delete_photo_removes_file_and_closes_gap(client, app, auth_headers):
    listing = make_listing()
    headers = auth_headers(listing.host)
    first, second = (upload(client, listing, headers, make_png()).get_json() for _ in range(2))
    assert client.delete(f"/api/v1/properties/{listing.id}/images/{first['id']}", headers=headers).status_code == 204
    assert client.get(first["url"]).status_code == 404 and client.get(first["thumbnail_url"]).status_code == 404
    images = client.get(f"/api/v1/properties/{listing.id}").get_json()["images"]
    assert [(i["id"], i["position"]) for i in images] == [(second["id"], 0)]


def test_delete_photo_by_guest_is_403(client, app, auth_headers):
    listing = make_listing()
    image_id = upload(client, listing, auth_headers(listing.host), make_png()).get_json()["id"]
    response = client.delete(f"/api/v1/properties/{listing.id}/images/{image_id}", headers=auth_headers(make_user()))
    assert response.status_code == 403


def test_upload_photo_to_s3_backend(make_app, monkeypatch, auth_headers):
    from moto import mock_aws

    from app import storage

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        app = make_app(STORAGE_BACKEND="s3", S3_BUCKET="abode-listings", S3_REGION="us-east-1")
        backend = storage.get_storage()
        backend.client.create_bucket(Bucket="abode-listings")
        listing = make_listing()
        response = upload(app.test_client(), listing, auth_headers(listing.host), make_jpeg(width=960, height=640))
        assert response.status_code == 201
        body = response.get_json()
        assert "abode-listings" in body["url"] and "Signature" in body["url"]
        keys = {obj["Key"] for obj in backend.client.list_objects_v2(Bucket="abode-listings")["Contents"]}
        assert len(keys) == 2 and any(key.endswith("_thumb.jpg") for key in keys)
        thumb = Image.open(io.BytesIO(backend.open(next(k for k in keys if k.endswith("_thumb.jpg")))))
        assert thumb.size == (480, 320)


def test_upload_without_the_image_field_is_422_from_the_service_at_both_doors(client, app, auth_headers, login):
    listing = make_listing()
    with pytest.raises(ValidationFailed) as refused:
        photos.add_image(listing, actor=listing.host, file=None)
    assert refused.value.fields == {"image": [photos.MISSING_IMAGE]}
    api = client.post(f"/api/v1/properties/{listing.id}/images", headers=auth_headers(listing.host),
                      content_type="multipart/form-data", data={"picture": (io.BytesIO(make_jpeg()), "a.jpg")})
    assert api.status_code == 422 and api.get_json()["error"]["fields"] == {"image": [photos.MISSING_IMAGE]}
    login(client, listing.host)
    page = client.post(f"/host/listings/{listing.id}/photos", headers={"X-Requested-With": "XMLHttpRequest"},
                       content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(client, f"/host/listings/{listing.id}/photos")})
    assert page.status_code == 422 and page.get_json()["error"]["fields"] == {"image": [photos.MISSING_IMAGE]}
