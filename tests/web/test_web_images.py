"""The board shows stored images through the image store, by key, and nothing outside it."""

from __future__ import annotations

from sqlmodel import select

from models import ListingImage
from monitor.db import session_scope
from monitor.image_store import open_store
from web_testkit import PNG, app, client_for, seeded  # noqa: F401


def _image_row(settings, key: str) -> int:  # noqa: ANN001
    with session_scope(settings) as s:
        listing_id = s.exec(select(ListingImage.listing_id)).first()
        row = ListingImage(listing_id=listing_id, url=f"http://127.0.0.1/img/{key.replace('/', '_')}", local_path=key)
        s.add(row)
        s.flush()
        return row.id  # type: ignore[return-value]


def test_an_image_is_served_by_its_key_and_nothing_outside_the_store(seeded, client_for) -> None:  # noqa: ANN001
    open_store(seeded.settings.image_store_uri).put("full/kept.png", PNG)
    kept = _image_row(seeded.settings, "full/kept.png")
    escape = _image_row(seeded.settings, "../../../../etc/passwd")
    gone = _image_row(seeded.settings, "full/gone.png")
    staff = client_for("amy")
    r = staff.get(f"/images/{kept}")
    assert (r.status_code, r.content, r.headers["content-type"]) == (200, PNG, "image/png")
    assert staff.get(f"/images/{escape}").status_code == 404
    assert staff.get(f"/images/{gone}").status_code == 404
