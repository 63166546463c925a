"""Colour and category words (Chinese and English) mapped to a small set of families.

Listings state colour in many spellings (藏青, "navy blue", "dark navy", 米白, "off white");
the image side only distinguishes broad families, so both sides meet at the family level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# family -> reference sRGB colour (used to name the dominant colour of a photo).
COLOUR_REFS: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 22),
    "grey": (128, 128, 128),
    "white": (245, 245, 245),
    "off-white": (236, 228, 208),
    "beige": (210, 190, 150),
    "brown": (110, 70, 40),
    "red": (200, 30, 35),
    "orange": (240, 130, 30),
    "yellow": (240, 210, 40),
    "green": (40, 140, 60),
    "olive": (110, 110, 50),
    "blue": (40, 90, 200),
    "navy": (25, 35, 80),
    "purple": (110, 50, 140),
    "pink": (240, 140, 180),
    "gold": (200, 165, 60),
    "silver": (190, 192, 198),
}
COLOUR_FAMILIES = tuple(COLOUR_REFS)

# Longest phrases are matched first, so "navy blue" wins over "blue" and 藏青色 over 青.
_COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "jet black", "charcoal", "黑色", "黑", "纯黑", "炭黑"),
    "grey": ("grey", "gray", "grey melange", "steel", "ash", "灰色", "灰", "深灰", "浅灰", "烟灰", "麻灰"),
    "white": ("white", "pure white", "snow white", "白色", "白", "纯白", "本白", "漂白"),
    "off-white": ("off white", "off-white", "offwhite", "ivory", "cream", "米白", "米白色", "奶白", "象牙白", "乳白"),
    "beige": ("beige", "khaki", "nude", "camel", "taupe", "sand", "tan", "米色", "卡其", "卡其色", "杏色", "驼色", "肤色"),
    "brown": (
        "brown", "coffee", "coffee brown", "mushroom brown", "chocolate", "rust", "bronze", "copper",
        "棕色", "棕", "咖啡色", "咖啡", "褐色", "巧克力色",
    ),
    "red": ("red", "maroon", "burgundy", "wine", "crimson", "scarlet", "红色", "红", "大红", "酒红", "酒红色", "枣红", "玫红"),
    "orange": ("orange", "peach", "coral", "橙色", "橙", "橘色", "橘红"),
    "yellow": ("yellow", "mustard", "lemon", "黄色", "黄", "姜黄", "柠檬黄"),
    "green": ("green", "lime green", "mint", "teal", "turquoise", "绿色", "绿", "墨绿", "军绿", "草绿", "薄荷绿"),
    "olive": ("olive", "olive green", "橄榄绿", "橄榄色"),
    "blue": (
        "blue", "sky blue", "light blue", "royal blue", "turquoise blue", "denim", "蓝色", "蓝", "天蓝", "宝蓝",
        "浅蓝", "湖蓝", "牛仔蓝",
    ),
    "navy": ("navy", "navy blue", "dark navy", "dark blue", "藏青", "藏青色", "藏蓝", "深蓝", "深蓝色", "海军蓝"),
    "purple": ("purple", "violet", "lavender", "mauve", "magenta", "plum", "紫色", "紫", "薰衣草紫", "香芋紫"),
    "pink": ("pink", "rose", "blush", "粉色", "粉红", "粉", "粉红色", "桃红"),
    "gold": ("gold", "golden", "金色", "金"),
    "silver": ("silver", "metallic", "银色", "银"),
}

# Canonical category -> words. Shops label their catalogues with their own category names;
# these words bridge a title ("Men's cotton tee", "纯棉T恤") to those names.
_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "tshirt": ("t-shirt", "t shirt", "tshirt", "tshirts", "tee", "tees", "t恤", "短袖"),
    "shirt": ("shirt", "shirts", "衬衫", "衬衣"),
    "top": ("top", "tops", "blouse", "tank", "camisole", "上衣", "背心", "吊带"),
    "kurta": ("kurta", "kurtas", "kurti", "tunic"),
    "dress": ("dress", "dresses", "gown", "连衣裙", "裙子", "长裙"),
    "skirt": ("skirt", "skirts", "半身裙", "短裙"),
    "trousers": ("trousers", "pants", "jeans", "shorts", "leggings", "裤", "裤子", "牛仔裤", "短裤", "长裤"),
    "jacket": ("jacket", "coat", "hoodie", "sweater", "sweatshirt", "外套", "夹克", "卫衣", "毛衣", "大衣"),
    "sports-shoes": ("sports shoes", "running shoe", "running shoes", "trainer", "trainers", "运动鞋", "跑鞋"),
    "casual-shoes": ("casual shoes", "sneaker", "sneakers", "loafers", "canvas shoes", "休闲鞋", "板鞋", "帆布鞋"),
    "shoes": ("shoe", "shoes", "boots", "boot", "鞋", "鞋子", "靴", "靴子"),
    "heels": ("heels", "heel", "pumps", "stilettos", "高跟鞋", "高跟"),
    "sandals": ("sandals", "sandal", "凉鞋"),
    "flip-flops": ("flip flops", "flip-flops", "flipflops", "slippers", "slides", "拖鞋", "人字拖"),
    "socks": ("socks", "sock", "袜", "袜子"),
    "backpack": ("backpack", "backpacks", "rucksack", "daypack", "bpack", "gym sack", "双肩包", "背包"),
    "handbag": ("handbag", "handbags", "tote", "purse", "clutch", "shoulder bag", "手提包", "单肩包", "女包", "挎包"),
    "bag": ("bag", "bags", "包包", "箱包"),
    "wallet": ("wallet", "wallets", "card holder", "钱包", "卡包"),
    "belt": ("belt", "belts", "腰带", "皮带"),
    "watch": ("watch", "watches", "手表", "腕表"),
    "sunglasses": ("sunglasses", "sunglass", "shades", "墨镜", "太阳镜"),
    "hat": ("hat", "cap", "beanie", "帽", "帽子"),
}

# A general word also covers the specific categories under it.
CATEGORY_PARENTS: dict[str, frozenset[str]] = {
    "shoes": frozenset({"sports-shoes", "casual-shoes", "heels", "sandals", "flip-flops"}),
    "bag": frozenset({"backpack", "handbag"}),
    "top": frozenset({"tshirt", "shirt", "kurta"}),
}


def _compile(table: dict[str, tuple[str, ...]]) -> tuple[re.Pattern[str], dict[str, str]]:
    lookup: dict[str, str] = {}
    for family, words in table.items():
        for w in words:
            lookup[_norm(w)] = family
    alternatives = sorted(lookup, key=len, reverse=True)
    parts = []
    for w in alternatives:
        esc = re.escape(w).replace(r"\ ", r"[\s_-]*")
        # Latin words need word boundaries ("tan" must not fire inside "titanium");
        # CJK text has no spaces, so CJK words match anywhere.
        parts.append(rf"(?<![a-z]){esc}(?![a-z])" if w.isascii() else esc)
    return re.compile("|".join(parts)), lookup


def _norm(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.strip().lower())


_COLOUR_RE, _COLOUR_LOOKUP = _compile(_COLOUR_WORDS)
_CATEGORY_RE, _CATEGORY_LOOKUP = _compile(_CATEGORY_WORDS)


# Common title phrases that contain a colour character but name no colour
# (网红 "influencer", 包邮 "free shipping", 红包 "cash gift", 金属 "metal").
_NOT_COLOUR = re.compile("网红|红包|红人|金属|黄金周|白菜价|粉丝|粉底")


def _find(text: str, pattern: re.Pattern[str], lookup: dict[str, str]) -> list[str]:
    found: list[str] = []
    text = _norm(text)
    if pattern is _COLOUR_RE:
        text = _NOT_COLOUR.sub(" ", text)
    for m in pattern.finditer(text):
        family = lookup[_norm(m.group(0))]
        if family not in found:
            found.append(family)
    return found


def colours_in(text: str | None) -> list[str]:
    """Colour families named in ``text``, in order of first mention."""
    return _find(text, _COLOUR_RE, _COLOUR_LOOKUP) if text else []


def colour_family(word: str | None) -> str | None:
    """The family of one colour label (e.g. a catalogue's ``colour`` column), or None."""
    found = colours_in(word)
    return found[0] if found else None


def categories_in(text: str | None) -> list[str]:
    """Canonical categories named in ``text``, in order of first mention."""
    return _find(text, _CATEGORY_RE, _CATEGORY_LOOKUP) if text else []


def category_key(label: str | None) -> str | None:
    """Canonical category of one catalogue label ("Casual Shoes" -> casual-shoes), or None."""
    found = categories_in(label)
    return found[0] if found else None


def covers(stated: str, canonical: str) -> bool:
    """Whether a stated canonical category includes ``canonical`` (shoes covers heels)."""
    return stated == canonical or canonical in CATEGORY_PARENTS.get(stated, frozenset())


def text_of(title: str | None, attributes: dict | None, extra: Iterable[str] = ()) -> str:
    parts = [title or ""]
    for key, value in (attributes or {}).items():
        parts.append(f"{key} {value}")
    parts.extend(extra)
    return " ".join(parts)


def chinese_name(family: str) -> str | None:
    """The plain Chinese word for a colour or category family (for messages shown in Chinese)."""
    for table in (_COLOUR_WORDS, _CATEGORY_WORDS):
        chinese = [w for w in table.get(family, ()) if any("\u4e00" <= ch <= "\u9fff" for ch in w)]
        if chinese:
            # A two-character word reads as a noun on its own (裤子, not 裤).
            return next((w for w in chinese if len(w) >= 2), chinese[0])
    return None
