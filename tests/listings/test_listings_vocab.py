"""Colour and category words in Chinese and English map to the right family."""

from __future__ import annotations

import pytest

from monitor.listings.vocab import categories_in, category_key, colour_family, colours_in, covers


@pytest.mark.parametrize(
    ("word", "family"),
    [
        ("红色", "red"),
        ("大红", "red"),
        ("酒红色", "red"),
        ("藏青", "navy"),
        ("藏青色", "navy"),
        ("深蓝", "navy"),
        ("米白", "off-white"),
        ("米白色", "off-white"),
        ("卡其色", "beige"),
        ("黑色", "black"),
        ("白色", "white"),
        ("粉色", "pink"),
        ("墨绿", "green"),
        ("navy", "navy"),
        ("Navy Blue", "navy"),
        ("dark navy", "navy"),
        ("off white", "off-white"),
        ("Off-White", "off-white"),
        ("cream", "off-white"),
        ("Beige", "beige"),
        ("Grey", "grey"),
        ("gray", "grey"),
        ("Turquoise Blue", "blue"),
        ("Maroon", "red"),
        ("Olive", "olive"),
        ("Coffee Brown", "brown"),
    ],
)
def test_colour_words_map_to_family(word: str, family: str) -> None:
    assert colour_family(word) == family


def test_longest_phrase_wins_and_order_is_kept() -> None:
    assert colours_in("ADIDAS BP 3S Dark Navy Black Unisex Backpack") == ["navy", "black"]
    assert colours_in("藏青色衬衫 配白色纽扣") == ["navy", "white"]


def test_words_that_only_contain_a_colour_character_are_not_colours() -> None:
    # 网红 = influencer, 包邮 = free shipping, 金属 = metal: common in Taobao titles.
    assert colours_in("网红同款 包邮 金属扣 白色T恤") == ["white"]
    assert colours_in("Titanium case watch") == []  # "tan" inside a word is not a colour


def test_category_words_both_languages() -> None:
    assert categories_in("纯棉短袖T恤 女") == ["tshirt"]
    assert categories_in("Women's cotton tee") == ["tshirt"]
    assert categories_in("双肩包 学生") == ["backpack"]
    assert category_key("Casual Shoes") == "casual-shoes"
    assert category_key("Tshirts") == "tshirt"
    assert covers("shoes", "heels") and not covers("heels", "shoes")


def test_no_text_no_words() -> None:
    assert colours_in(None) == [] and colours_in("") == []
    assert colour_family("Multi") is None
