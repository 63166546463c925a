"""The image check reads crawled images through the configured store, on both databases; a store
that is unavailable leaves the row's key in place and says why."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session, select

from listings_testkit import BLUE, RED
from models import Flag, Listing, ListingImage, Shop
from monitor.db import get_engine, upgrade
from monitor.image_store import open_store
from monitor.listings.check import check_listings

BOTH_DATABASES = True
boto3 = pytest.importorskip("boto3", reason="the s3 extra (boto3) is not installed")
moto = pytest.importorskip("moto", reason="moto is not installed (test extra)")
STORE = "s3://shop-images/crawl?region=us-east-1"


@pytest.fixture
def s3_settings(lsettings, monkeypatch: pytest.MonkeyPatch):
    for var, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings = lsettings.model_copy(update={"listings": lsettings.listings.model_copy(update={"image_store": STORE})})
    upgrade(settings)
    with moto.mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="shop-images")
        yield settings


def _jpeg(img) -> bytes:  # noqa: ANN001
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def _listing(db: Session, title: str, key: str, ext: str) -> Listing:
    shop = db.exec(select(Shop)).first() or Shop(platform="taobao", external_id="s1", name="Demo shop")
    db.add(shop)
    db.flush()
    listing = Listing(platform="taobao", external_id=ext, title=title, shop_id=shop.id)
    db.add(listing)
    db.flush()
    db.add(ListingImage(listing_id=listing.id, url=f"https://img.example.com/{ext}.jpg", role="main", local_path=key))
    db.commit()
    return listing


def test_the_check_reads_the_crawled_image_from_the_bucket(s3_settings, draw) -> None:
    store = open_store(s3_settings.image_store_uri)
    store.put("full/red.jpg", _jpeg(draw("tshirt", RED)))
    store.put("full/blue.jpg", _jpeg(draw("tshirt", BLUE)))
    assert not (s3_settings.images_path / "full").exists()  # nothing went to the local directory
    with Session(get_engine(s3_settings), expire_on_commit=False) as db:
        bad = _listing(db, "夏季新款 蓝色 纯棉T恤", "full/red.jpg", "100")
        _listing(db, "Blue cotton T-shirt", "full/blue.jpg", "101")
        assert check_listings(db, s3_settings) == 1
        flag = db.exec(select(Flag).where(Flag.kind == "image_mismatch")).one()
        assert flag.target_id == bad.id and flag.label == "colour"
        assert all(r.fetch_error is None for r in db.exec(select(ListingImage)))


def test_an_image_missing_from_the_store_is_reported_and_its_key_kept(s3_settings) -> None:
    with Session(get_engine(s3_settings), expire_on_commit=False) as db:
        listing = _listing(db, "Blue cotton T-shirt", "full/gone.jpg", "102")
        assert check_listings(db, s3_settings) == 0
        row = db.exec(select(ListingImage).where(ListingImage.listing_id == listing.id)).one()
        assert row.local_path == "full/gone.jpg"  # the key stays for when the store is back
        assert "image full/gone.jpg not found in the image store s3://shop-images/crawl" in row.fetch_error
