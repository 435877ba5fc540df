"""The photo manager in a real browser: uploaded photos appear in the gallery and its count at once, beside what
happened to each file, also when some of the files were refused."""

from __future__ import annotations

from ..support.browser import browser_page, live_server, require_chromium
from ..support.browser import sign_in as password_sign_in
from ..support.factories import make_listing, make_user
from ..support.images import make_jpeg, make_png


def test_uploaded_photos_show_at_once_even_when_one_file_was_refused(app, tmp_path):
    require_chromium()
    host = make_user(role="host")
    listing = make_listing(host=host)
    (tmp_path / "room.jpg").write_bytes(make_jpeg(320, 240))
    (tmp_path / "view.png").write_bytes(make_png(320, 240))
    (tmp_path / "notes.jpg").write_bytes(b"this is not a picture")
    with live_server(app) as base, browser_page() as page:
        password_sign_in(page, base, host.email)
        page.goto(f"{base}/host/listings/{listing.id}/photos")
        assert "No photos yet" in page.content()
        page.get_by_label("Photos to upload").set_input_files(
            [str(tmp_path / "room.jpg"), str(tmp_path / "notes.jpg"), str(tmp_path / "view.png")])
        page.locator("#photo-grid .photo-card").nth(1).wait_for()
        assert page.locator("#photo-grid .photo-card").count() == 2
        assert page.locator("#photo-count").inner_text() == "2 of 30 used."
        assert "No photos yet" not in page.locator("#photo-gallery").inner_text()
        uploads = page.locator("#upload-list").inner_text()  # still there: the page was not reloaded
        assert "Failed" in uploads and "2 of 3 uploaded." in uploads
