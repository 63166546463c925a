"""The listing score: text vs image, seller vs buyer photos, buyers' words, bad inputs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from listings_testkit import BLUE, GREEN, RED, YELLOW
from monitor.listings.backend import load_backend
from monitor.listings.check import loader_for
from monitor.listings.scoring import ListingInput, ListingScorer, stated_categories, stated_colours
from monitor.listings.words import WordsSignal, says_not_as_pictured, words_score
from monitor.paths import FIXTURES


@pytest.fixture
def scorer(lsettings, tmp_path: Path) -> ListingScorer:
    return ListingScorer(load_backend(lsettings), loader_for(lsettings, base_dir=tmp_path))


def test_red_product_with_blue_title_is_flagged_naming_both_colours(scorer, draw, tmp_path: Path) -> None:
    draw("tshirt", RED).save(tmp_path / "red.png")
    res = scorer.score(ListingInput(listing_id="L1", title="Women's blue cotton T-shirt", images=["red.png"]))
    assert res.score is not None and res.score >= 0.5
    colour_reasons = [r for r in res.reasons if "blue" in r and "red" in r]
    assert colour_reasons, res.reasons
    assert res.labels == ["colour"]


def test_same_red_product_with_red_title_is_not_flagged(scorer, draw, tmp_path: Path) -> None:
    draw("tshirt", RED).save(tmp_path / "red.png")
    for title in ("Women's red cotton T-shirt", "红色纯棉T恤"):
        res = scorer.score(ListingInput(listing_id="L1", title=title, images=["red.png"]))
        assert res.score is not None and res.score < 0.5, (title, res.reasons)


def test_chinese_title_and_attributes_are_read(scorer, draw, tmp_path: Path) -> None:
    draw("dress", YELLOW).save(tmp_path / "dress.png")
    res = scorer.score(
        ListingInput(listing_id="L2", title="新款连衣裙", attributes={"颜色分类": "藏青色"}, images=["dress.png"])
    )
    assert res.score is not None and res.score >= 0.5
    assert any("navy" in r and "yellow" in r for r in res.reasons), res.reasons


def test_category_swap_is_flagged(scorer, draw, tmp_path: Path) -> None:
    draw("handbag", GREEN).save(tmp_path / "bag.png")
    res = scorer.score(ListingInput(listing_id="L3", title="Green trousers", images=["bag.png"]))
    assert res.score is not None and res.score >= 0.5
    assert any("Trousers" in r and "Handbag" in r for r in res.reasons), res.reasons


def test_identical_seller_and_buyer_photos_never_flag(scorer, tmp_path: Path) -> None:
    base = FIXTURES / "listings"
    rows = list(csv.DictReader((base / "catalogue.csv").open(encoding="utf-8")))
    for row in rows:
        img = str(base / row["image"])
        res = scorer.score(
            ListingInput(
                listing_id=row["image"], title=row["title"], attributes={"colour": row["colour"]},
                images=[img], buyer_photos=[img, img, img],
            )
        )
        assert res.components["buyer_photos"] == 0.0, row
        assert res.score is not None and res.score < 0.5, (row, res.reasons)


def test_several_buyers_with_other_colours_flag_but_one_does_not(scorer, draw, tmp_path: Path) -> None:
    draw("tshirt", BLUE, seed=1).save(tmp_path / "seller.png")
    for n in range(3):
        draw("tshirt", RED, seed=10 + n).save(tmp_path / f"buyer{n}.png")
    one = scorer.score(ListingInput("L4", "Blue T-shirt", images=["seller.png"], buyer_photos=["buyer0.png"]))
    three = scorer.score(
        ListingInput("L4", "Blue T-shirt", images=["seller.png"], buyer_photos=[f"buyer{n}.png" for n in range(3)])
    )
    assert one.score is not None and one.score < 0.5
    assert three.score is not None and three.score >= 0.5
    assert any("3 of 3 buyer photos" in r for r in three.reasons), three.reasons


def test_bad_inputs_give_reasons_not_crashes(scorer, draw, tmp_path: Path) -> None:
    draw("tshirt", RED).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    res = scorer.score(
        ListingInput("L5", "Red T-shirt", images=["missing.jpg", "cut.jpg"], buyer_photos=["gone.png"])
    )
    assert res.score is None
    text = " | ".join(res.reasons)
    assert "missing.jpg" in text and "not found" in text
    assert "cut.jpg" in text and "truncated" in text
    assert "gone.png" in text
    assert "no listing image could be read" in text
    empty = scorer.score(ListingInput("L6", "Red T-shirt"))
    assert empty.score is None and "listing has no images" in empty.reasons


def test_a_bad_gallery_image_does_not_stop_the_check(scorer, draw, tmp_path: Path) -> None:
    draw("tshirt", RED).save(tmp_path / "red.png")
    res = scorer.score(ListingInput("L7", "Blue T-shirt", images=["red.png", "missing.jpg"]))
    assert res.score is not None and res.score >= 0.5
    assert any("missing.jpg" in r for r in res.reasons)


def test_stated_category_and_colour() -> None:
    known = ["Casual Shoes", "Sports Shoes", "Heels", "Tshirts"]
    assert stated_categories(ListingInput(1, "Nike shoe"), known) == ["Casual Shoes", "Sports Shoes", "Heels"]
    assert stated_categories(ListingInput(1, "Nike running shoe"), known) == ["Sports Shoes"]
    assert stated_categories(ListingInput(1, "x", {"category": "heels"}), known) == ["Heels"]
    assert stated_categories(ListingInput(1, "a watch"), known) == []
    # The colour attribute beats trim colours in the title.
    assert stated_colours(ListingInput(1, "White shoe with black sole", {"color": "White"})) == ["white"]
    assert stated_colours(ListingInput(1, "White shoe with black sole")) == ["white", "black"]


def test_one_complaint_does_not_flag_but_a_pattern_does() -> None:
    one, _ = words_score(WordsSignal(listing_reviews=1, listing_hits=1, shop_reviews=200, shop_hits=6))
    many, reason = words_score(WordsSignal(listing_reviews=8, listing_hits=4, shop_reviews=200, shop_hits=6))
    usual, _ = words_score(WordsSignal(listing_reviews=40, listing_hits=1, shop_reviews=200, shop_hits=6))
    assert one < 0.5
    assert many >= 0.5 and "4 of 8 reviews" in (reason or "")
    assert usual < 0.1


def test_buyer_words_reach_the_listing_score(scorer, draw, tmp_path: Path) -> None:
    draw("tshirt", RED).save(tmp_path / "red.png")
    sig = WordsSignal(listing_reviews=10, listing_hits=5, shop_reviews=300, shop_hits=9)
    res = scorer.score(ListingInput("L8", "Red T-shirt", images=["red.png"]), words=sig)
    assert res.score is not None and res.score >= 0.5
    assert "buyer_words" in res.labels


@pytest.mark.parametrize(
    "text", ["色差太大了", "实物与图片不符", "货不对版", "Not as pictured at all", "the colour is different", "wrong color"]
)
def test_not_as_pictured_words(text: str) -> None:
    assert says_not_as_pictured(text)


@pytest.mark.parametrize("text", ["质量很好，和图片一样", "Great colour, exactly as pictured"])
def test_praise_is_not_a_complaint(text: str) -> None:
    assert not says_not_as_pictured(text)


def test_every_bad_input_at_once_gives_reasons_on_the_listing(
    scorer, draw, tmp_path: Path, http_root: tuple[str, Path]
) -> None:
    from PIL import Image

    base, www = http_root
    red = draw("tshirt", RED).convert("RGBA")
    red.save(tmp_path / "alpha.png")
    red.save(tmp_path / "alpha.webp", lossless=True)
    red.convert("P").save(tmp_path / "anim.gif", save_all=True, append_images=[red.convert("P")])
    Image.new("1", (12_000, 12_000)).save(tmp_path / "bomb.png")
    (tmp_path / "cut.jpg").write_bytes((FIXTURES / "listings" / "catalogue" / "tshirt-1.jpg").read_bytes()[:400])
    res = scorer.score(
        ListingInput(
            "L9", "Blue T-shirt",
            images=["alpha.png", "alpha.webp", "anim.gif", "bomb.png", "cut.jpg", "none.jpg", f"{base}/404.jpg"],
            buyer_photos=[f"{base}/gone.png"],
        )
    )
    # The readable images were used (red shirt, blue title: flagged) and each bad one said why.
    assert res.score is not None and res.score >= 0.5
    problems = res.image_problems
    assert set(problems) == {"bomb.png", "cut.jpg", "none.jpg", f"{base}/404.jpg", f"{base}/gone.png"}
    assert "MP limit" in problems["bomb.png"]
    assert "truncated" in problems["cut.jpg"]
    assert "not found" in problems["none.jpg"]
    assert "HTTP 404" in problems[f"{base}/404.jpg"]
    assert all(any(src in r for r in res.reasons) for src in problems)
