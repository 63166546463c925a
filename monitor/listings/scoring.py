"""One listing-consistency score from three signals, each with its own reason.

1. text vs image: the category and colour the listing states against what the main photo
   shows (backend probabilities; see :mod:`monitor.listings.mismatch` for the two measures
   and the calibrated flag line). The worse of the two checks counts.
2. seller vs buyer photos: the colour-distribution gap between each buyer's photo and the
   closest seller photo (a perceptual-hash near-duplicate is allowed some colour drift); one
   buyer is weak evidence, several agreeing buyers strong.
3. buyers' words (see :mod:`monitor.listings.words`).

Signals combine as a noisy-OR: any one strong signal is enough, weak ones add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from monitor.listings.backend import ImageBackend, ImageReading
from monitor.listings.features import colour_distance, colour_shares, hash_distance, phash, prepare
from monitor.listings.loading import ImageLoader, ImageProblem, LoadedImage
from monitor.listings.mismatch import calibrated, category_mismatch, colour_mismatch
from monitor.listings.vocab import (
    categories_in,
    category_key,
    colours_in,
    covers,
)
from monitor.listings.words import WordsSignal, words_score

CATEGORY_KEYS = ("category", "类目", "品类", "类别", "type", "product type", "articletype")
COLOUR_KEYS = ("colour", "color", "颜色", "颜色分类", "色系", "basecolour", "basecolor")
NEAR_DUPLICATE = 0.2  # hash distance below which two photos are the same picture
WIDE_GAP = 0.5  # colour-distribution distance a buyer photo must exceed to count
AGREEING_CAP = 0.45  # highest colour score when the photo's likeliest colour is a stated one


@dataclass
class ListingInput:
    listing_id: Any
    title: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    images: Sequence[str] = ()
    buyer_photos: Sequence[str] = ()
    sku_names: Sequence[str] = ()


@dataclass
class ListingScore:
    listing_id: Any
    score: float | None  # None when nothing could be checked (reasons say why)
    reasons: list[str]
    components: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # which kinds of mismatch were found
    image_problems: dict[str, str] = field(default_factory=dict)  # source -> reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "listing_id": self.listing_id,
            "score": None if self.score is None else round(self.score, 4),
            "reasons": self.reasons,
        }


def _attribute(attributes: dict[str, Any], keys: Sequence[str]) -> str | None:
    for k, v in attributes.items():
        if str(k).strip().lower() in keys and v not in (None, ""):
            return str(v)
    return None


def stated_categories(item: ListingInput, known: Sequence[str]) -> list[str]:
    """Backend category labels the listing claims: an exact attribute label, else words in the text."""
    attr = _attribute(item.attributes, CATEGORY_KEYS)
    if attr:
        exact = [k for k in known if k.lower() == attr.strip().lower()]
        if exact:
            return exact
    text = " ".join([item.title or "", attr or ""])
    said = categories_in(text)
    if not said:
        return []
    return [k for k in known if (ck := category_key(k)) is not None and any(covers(s, ck) for s in said)]


def stated_colours(item: ListingInput) -> list[str]:
    """Colour families the listing claims. The colour attribute wins over the title, whose
    other colour words are often trim ("white with black sole")."""
    attr = _attribute(item.attributes, COLOUR_KEYS)
    from_attr = colours_in(attr)
    if from_attr:
        return from_attr
    return colours_in(" ".join([item.title or "", *item.sku_names]))


def _shares_text(reading: ImageReading, top: int = 2) -> str:
    if not reading.colour_shares:
        return ""
    best = sorted(reading.colour_shares.items(), key=lambda kv: -kv[1])[:top]
    return " (" + ", ".join(f"{k} {v:.0%}" for k, v in best) + " of the product)"


class ListingScorer:
    def __init__(self, backend: ImageBackend, loader: ImageLoader) -> None:
        self.backend = backend
        self.loader = loader

    def _load_all(
        self, sources: Sequence[str], role: str, problems: list[str], by_source: dict[str, str]
    ) -> list[LoadedImage]:
        out = []
        for n, src in enumerate(sources, 1):
            got = self.loader.load(src)
            if isinstance(got, ImageProblem):
                problems.append(f"{role} {n} unusable: {got}")
                by_source[src] = got.reason
            else:
                out.append(got)
        return out

    def score(self, item: ListingInput, *, words: WordsSignal | None = None) -> ListingScore:
        problems: list[str] = []
        reasons: list[str] = []
        components: dict[str, float] = {}
        labels: list[str] = []
        by_source: dict[str, str] = {}
        seller = self._load_all(item.images, "listing image", problems, by_source)
        buyers = self._load_all(item.buyer_photos, "buyer photo", problems, by_source)
        if not item.images:
            problems.append("listing has no images")
        elif not seller:
            problems.append("no listing image could be read, so the photos were not checked")

        if seller:
            s, why, kinds = self._text_vs_image(item, seller[0].image)
            if s is not None:
                components["text_image"] = s
                reasons.extend(why)
                labels.extend(kinds)
            if buyers:
                s, why = self._seller_vs_buyer([x.image for x in seller], [x.image for x in buyers])
                components["buyer_photos"] = s
                if why:
                    reasons.append(why)
                    labels.append("buyer_photos")
        if words is not None and words.listing_reviews > 0:
            s, why = words_score(words)
            components["buyer_words"] = s
            if why and s >= 0.2:
                reasons.append(why)
                labels.append("buyer_words")

        score = None
        if components:
            score = float(1.0 - np.prod([1.0 - v for v in components.values()]))
        return ListingScore(
            listing_id=item.listing_id,
            score=score,
            reasons=reasons + problems,
            components=components,
            problems=problems,
            labels=labels,
            image_problems=by_source,
        )

    # ------------------------------------------------------------------------------------
    def _text_vs_image(self, item: ListingInput, img: Image.Image) -> tuple[float | None, list[str], list[str]]:
        reading = self.backend.read([img])[0]
        thresholds = getattr(self.backend, "thresholds", None) or {}
        parts: list[float] = []
        why: list[str] = []
        kinds: list[str] = []
        cats = stated_categories(item, list(self.backend.categories))
        if cats and reading.category_probs:
            s = calibrated(category_mismatch(reading.category_probs, cats), thresholds.get("category", 0.5))
            parts.append(s)
            if s >= 0.5:
                seen = max(reading.category_probs, key=reading.category_probs.__getitem__)
                kinds.append("category")
                why.append(
                    f"listing says {'/'.join(cats)}, but the main image looks like {seen} "
                    f"(p={reading.category_probs[seen]:.2f} vs {sum(reading.category_probs.get(c, 0) for c in cats):.2f})"
                )
        said = [c for c in stated_colours(item) if c in reading.colour_probs]
        if said:
            s = calibrated(colour_mismatch(reading.colour_probs, said), thresholds.get("colour", 0.5))
            seen = max(reading.colour_probs, key=reading.colour_probs.__getitem__)
            if seen in said:
                # The model's best guess agrees with the listing, it is only unsure: that
                # alone must not flag (nor give a reason that names the same colour twice).
                s = min(s, AGREEING_CAP)
            parts.append(s)
            if s >= 0.5:
                kinds.append("colour")
                why.append(f"listing says {'/'.join(said)}, but the main image is {seen}{_shares_text(reading)}")
        if not parts:
            return None, [], []
        # The worse of the two checks, not their noisy-OR: on fashion_listings the two
        # checks' small doubts on honest listings added up to false flags (AUC 0.914 vs 0.922).
        return max(parts), why, kinds

    def _seller_vs_buyer(
        self, seller: Sequence[Image.Image], buyers: Sequence[Image.Image]
    ) -> tuple[float, str | None]:
        s_sig = [(phash(im), colour_shares(prepare(im))) for im in seller]
        gaps = []
        for im in buyers:
            h, shares = phash(im), colour_shares(prepare(im))
            best = 1.0
            for sh, ss in s_sig:
                gap = colour_distance(shares, ss)
                if hash_distance(h, sh) <= NEAR_DUPLICATE:
                    # The same picture (re-encoded or filtered) shifts colours a little; a
                    # recoloured copy of the seller's photo still shows the full gap.
                    gap = max(0.0, gap - 0.25)
                best = min(best, gap)
            gaps.append(best)
        wide = [g for g in gaps if g > WIDE_GAP]
        # One buyer is weak evidence (half weight); agreement across buyers approaches 1.
        score = float(sum(wide) / (len(gaps) + 1))
        if not wide:
            return score, None
        return score, (
            f"{len(wide)} of {len(gaps)} buyer photos differ in colour from every listing image "
            f"(largest gap {max(wide):.0%})"
        )

