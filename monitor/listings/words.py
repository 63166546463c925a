"""Buyers' words: how often a listing's reviews say "not as pictured", against the shop's norm.

A review counts when the review model gave it the cause ``not_as_pictured`` or when its
text plainly says so (色差, 与图片不符, "colour is different"), so the signal works before
detection has run. One complaint must not flag a listing: the listing's rate gets a Beta
prior centred on the shop's own rate, worth ``PRIOR_STRENGTH`` reviews, and the score is
the posterior probability that the listing's rate is well above the shop's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scipy.stats import beta

PRIOR_STRENGTH = 10.0
DEFAULT_BASELINE = 0.05  # shops with too few reviews to have a rate of their own
MIN_SHOP_REVIEWS = 20

NOT_AS_PICTURED = re.compile(
    r"色差|颜色不一样|颜色不对|颜色不符|与图片不符|和图片不符|跟图片不一样|和图片不一样|与描述不符|货不对版|实物与图片|图片仅供参考"
    r"|not as (?:pictured|shown|described)|doesn'?t look like the (?:picture|photo)|"
    r"colou?r (?:is )?(?:different|wrong|not the same)|different colou?r|wrong colou?r|wrong item",
    re.IGNORECASE,
)


def says_not_as_pictured(text: str | None) -> bool:
    return bool(text and NOT_AS_PICTURED.search(text))


@dataclass(frozen=True)
class WordsSignal:
    listing_reviews: int
    listing_hits: int
    shop_reviews: int
    shop_hits: int

    @property
    def baseline(self) -> float:
        if self.shop_reviews < MIN_SHOP_REVIEWS:
            return DEFAULT_BASELINE
        # Laplace-smoothed so a spotless shop still has a non-zero rate to compare with.
        return (self.shop_hits + 1) / (self.shop_reviews + 2)


def words_score(sig: WordsSignal) -> tuple[float, str | None]:
    """(score 0..1, reason or None)."""
    if sig.listing_reviews <= 0 or sig.listing_hits <= 0:
        return 0.0, None
    b = sig.baseline
    a_post = sig.listing_hits + PRIOR_STRENGTH * b
    b_post = sig.listing_reviews - sig.listing_hits + PRIOR_STRENGTH * (1 - b)
    # "Well above" = twice the shop's rate, and at least 10 points more.
    bar = max(2 * b, b + 0.10)
    score = float(beta.sf(min(bar, 0.999), a_post, b_post))
    rate = sig.listing_hits / sig.listing_reviews
    reason = (
        f"buyers say it is not as pictured in {sig.listing_hits} of {sig.listing_reviews} reviews "
        f"({rate:.0%}; shop baseline {b:.0%})"
    )
    return score, reason
