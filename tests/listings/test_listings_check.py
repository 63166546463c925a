"""check_listings on stored listings: flags, idempotence, reasons on unusable images, buyers' words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from listings_testkit import BLUE, RED
from models import Flag, Listing, ListingImage, Review, Shop
from monitor.db import get_engine
from monitor.errors import DataError
from monitor.listings.check import check_listings
from monitor.listings.check import _Words, check_listings_detailed


@pytest.fixture
def db(ldb_settings) -> Session:
    with Session(get_engine(ldb_settings), expire_on_commit=False) as s:
        yield s


def _listing(db: Session, settings, title: str, images: list[tuple[str, str | None]], ext: str) -> Listing:
    shop = db.exec(select(Shop)).first()
    if shop is None:
        shop = Shop(platform="taobao", external_id="s1", name="Demo shop")
        db.add(shop)
        db.flush()
    listing = Listing(platform="taobao", external_id=ext, title=title, shop_id=shop.id)
    db.add(listing)
    db.flush()
    for pos, (role, local) in enumerate(images):
        db.add(
            ListingImage(
                listing_id=listing.id, url=f"https://img.example.com/{ext}/{pos}.jpg", role=role,
                position=pos, local_path=local,
            )
        )
    db.commit()
    return listing


def _blue_shirts(db: Session, settings, draw, bad_ext: str, good_ext: str) -> tuple[Listing, Listing]:  # noqa: ANN001
    """Two listings titled blue: one whose photo is a red shirt, one whose photo is blue."""
    root = settings.images_path / "full"
    root.mkdir(parents=True)
    draw("tshirt", RED).save(root / "red.jpg", quality=92)
    draw("tshirt", BLUE).save(root / "blue.jpg", quality=92)
    bad = _listing(db, settings, "夏季新款 蓝色 纯棉T恤", [("main", "full/red.jpg")], bad_ext)
    good = _listing(db, settings, "Blue cotton T-shirt", [("main", "full/blue.jpg")], good_ext)
    return bad, good


def test_mismatched_listing_gets_one_flag_with_reasons(db, ldb_settings, draw) -> None:
    bad, good = _blue_shirts(db, ldb_settings, draw, "100", "101")

    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert check_listings(db, ldb_settings, now=when) == 1
    flags = db.exec(select(Flag).where(Flag.kind == "image_mismatch")).all()
    assert len(flags) == 1
    flag = flags[0]
    assert (flag.target_type, flag.target_id, flag.listing_id) == ("listing", bad.id, bad.id)
    assert flag.shop_id == bad.shop_id and flag.label == "colour"
    assert flag.score >= 0.5 and flag.model_version.startswith("image_category-")
    assert flag.created_at == when
    assert any("blue" in r and "red" in r for r in flag.reasons), flag.reasons

    # A second run updates the same flag rather than adding another.
    assert check_listings(db, ldb_settings, listing_id=bad.id, now=datetime.now(UTC)) == 1
    assert len(db.exec(select(Flag).where(Flag.kind == "image_mismatch")).all()) == 1
    assert check_listings(db, ldb_settings, listing_id=good.id) == 0


def test_unusable_images_are_recorded_on_the_listing(db, ldb_settings) -> None:
    root = ldb_settings.images_path / "full"
    root.mkdir(parents=True)
    (root / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    listing = _listing(
        db, ldb_settings, "Red T-shirt",
        [("main", "full/gone.jpg"), ("gallery", "full/cut.jpg"), ("gallery", None), ("gallery", None)], "102",
    )
    crawler_failed = db.exec(select(ListingImage).where(ListingImage.position == 3)).one()
    crawler_failed.fetch_error = "HTTP 404 from the image host"
    db.add(crawler_failed)
    db.commit()
    [checked] = check_listings_detailed(db, ldb_settings, listing_id=listing.id)
    assert not checked.flagged and checked.result.score is None
    text = " | ".join(checked.result.reasons)
    assert "gone.jpg" in text and "not found" in text
    assert "cut.jpg" in text and "not an image" in text
    # The third image was never downloaded and its host is not allowed: said, not fetched.
    assert "not in listings.fetch_hosts" in text
    rows = db.exec(select(ListingImage).where(ListingImage.listing_id == listing.id).order_by(ListingImage.position)).all()
    assert "not found" in (rows[0].fetch_error or "")
    assert "not an image" in (rows[1].fetch_error or "")
    assert rows[2].fetch_error is None  # never saved: the listing's reasons say why, the row stays the crawler's
    assert rows[3].fetch_error == "HTTP 404 from the image host"  # the crawler's reason is kept
    assert any("crawler could not download it: HTTP 404 from the image host" in r for r in checked.result.reasons)
    assert db.exec(select(Flag)).all() == []


def test_unknown_listing_is_a_clear_error(db, ldb_settings) -> None:
    with pytest.raises(DataError, match="no listing with id 999"):
        check_listings(db, ldb_settings, listing_id=999)


def test_no_listings_needs_no_model(db, ldb_settings) -> None:
    assert check_listings(db, ldb_settings) == 0


def test_buyers_words_flag_a_listing_whose_photo_looks_fine(db, ldb_settings, draw) -> None:
    root = ldb_settings.images_path / "full"
    root.mkdir(parents=True)
    draw("tshirt", RED).save(root / "red.png")
    listing = _listing(db, ldb_settings, "Red T-shirt", [("main", "full/red.png")], "103")
    other = _listing(db, ldb_settings, "Red T-shirt", [("main", "full/red.png")], "104")
    texts = ["色差太大，和图片不一样"] * 3 + ["质量不错"] * 3
    for n, text in enumerate(texts):
        db.add(Review(platform="taobao", external_id=f"r{n}", listing_id=listing.id, shop_id=listing.shop_id, text=text, rating=2))
    # The shop's other listing has many reviews and few complaints: the baseline.
    for n in range(40):
        db.add(Review(platform="taobao", external_id=f"o{n}", listing_id=other.id, shop_id=other.shop_id, text="很好", rating=5))
    db.commit()
    # A cause flag from the review model counts even when the words are not in our pattern.
    quiet = Review(platform="taobao", external_id="r-flagged", listing_id=listing.id, shop_id=listing.shop_id, text="不满意", rating=1)
    db.add(quiet)
    db.commit()
    db.add(Flag(kind="cause", target_type="review", target_id=quiet.id, label="not_as_pictured", score=0.9,
                model_version="cause-test", review_id=quiet.id, listing_id=listing.id))
    # Another cause, or another kind of flag that happens to carry the label, does not count.
    for n, (kind, label) in enumerate((("cause", "poor_quality"), ("professional", "not_as_pictured"))):
        plain = Review(platform="taobao", external_id=f"r-other{n}", listing_id=listing.id, shop_id=listing.shop_id,
                       text="不满意", rating=1)
        db.add(plain)
        db.commit()
        db.add(Flag(kind=kind, target_type="review", target_id=plain.id, label=label, score=0.9,
                    model_version="cause-test", review_id=plain.id, listing_id=listing.id))
    db.commit()

    results = {c.listing_id: c for c in check_listings_detailed(db, ldb_settings)}
    assert results[listing.id].flagged
    assert any("4 of 9 reviews" in r for r in results[listing.id].result.reasons), results[listing.id].result.reasons
    assert not results[other.id].flagged


def test_buyer_photo_rows_are_compared(db, ldb_settings, draw) -> None:
    root = ldb_settings.images_path / "full"
    root.mkdir(parents=True)
    draw("tshirt", BLUE, seed=1).save(root / "seller.png")
    for n in range(3):
        draw("tshirt", RED, seed=20 + n).save(root / f"buyer{n}.png")
    listing = _listing(
        db, ldb_settings, "Blue T-shirt",
        [("main", "full/seller.png")] + [("buyer", f"full/buyer{n}.png") for n in range(3)], "105",
    )
    [checked] = check_listings_detailed(db, ldb_settings, listing_id=listing.id)
    assert checked.flagged and "buyer_photos" in checked.result.labels


def test_post_crawl_check_skips_unchanged_listings_and_rechecks_changed_ones(db, ldb_settings, draw) -> None:
    bad, good = _blue_shirts(db, ldb_settings, draw, "200", "201")

    def checked() -> set[int]:
        return {c.listing_id for c in check_listings_detailed(db, ldb_settings, only_changed=True)}

    assert checked() == {bad.id, good.id}
    assert checked() == set()  # nothing changed since: no image is loaded again
    # The explicit check (the CLI's) still looks at every listing.
    assert {c.listing_id for c in check_listings_detailed(db, ldb_settings)} == {bad.id, good.id}

    # A new image file, a new title or a buyer's complaint each make the listing due again.
    image = db.exec(select(ListingImage).where(ListingImage.listing_id == good.id)).one()
    image.checksum = "re-downloaded"
    db.add(image)
    db.commit()
    assert checked() == {good.id}
    bad.title = "夏季新款 红色 纯棉T恤"
    db.add(bad)
    db.add(Review(platform="taobao", external_id="c1", listing_id=good.id, shop_id=good.shop_id,
                  text="色差太大，和图片不一样", rating=2))
    db.commit()
    assert checked() == {bad.id, good.id}
    assert checked() == set()


def test_buyers_words_marks_are_stored_and_read_again_only_when_reset(db, ldb_settings, draw) -> None:
    bad, good = _blue_shirts(db, ldb_settings, draw, "300", "301")
    reviews = [Review(platform="taobao", external_id=f"m{n}", listing_id=good.id, shop_id=good.shop_id,
                      text=text, rating=3) for n, text in enumerate(["色差太大，和图片不一样", "很好", "很好"])]
    db.add_all(reviews)
    db.commit()
    check_listings_detailed(db, ldb_settings, listing_id=good.id)
    for r in reviews:
        db.refresh(r)
    assert [r.says_not_as_pictured for r in reviews] == [True, False, False]
    # A stored mark is trusted (the text is not read again) ...
    reviews[1].says_not_as_pictured = True
    # ... until the crawl's edit or detection's scoring resets it to NULL, and then the text decides.
    reviews[0].text, reviews[0].says_not_as_pictured = "质量不错", None
    db.add_all(reviews)
    db.commit()
    words = _Words(db)
    signal = words.signal(good)
    assert (signal.listing_reviews, signal.listing_hits) == (3, 1)
    db.refresh(reviews[0])
    assert reviews[0].says_not_as_pictured is False
