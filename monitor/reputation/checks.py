"""The reputation checks: an adjusted rating, a list of pass/warn/fail tests, and a grade.

Pure functions over plain review facts (no database), so the figures can be checked by hand.
Modelled on ReviewMeta's published tests: each test reports the figure it measured and the
limits it was judged against, so a supervisor can see why a listing got its grade.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np

from monitor.detection import minhash

Status = Literal["pass", "warn", "fail"]
GRADES = ("A", "B", "C", "D", "F")
# A day is a burst when it holds at least this many reviews and BURST_FACTOR times the median
# of the target's active days: one busy promotion day is normal, a spike out of nowhere is not.
BURST_MIN_REVIEWS = 5
BURST_FACTOR = 3.0
NEAR_DUPLICATE_SIMILARITY = 0.6
MIN_GROUP = 3  # fewer flagged (or one-time) reviews than this and a rating gap means nothing


@dataclass(frozen=True)
class ReviewFact:
    id: int
    rating: int
    posted: datetime
    reviewer_id: int | None = None
    text: str = ""
    removed_because: tuple[str, ...] = ()
    professional: bool = False
    reviewer_reviews: int = 1  # reviews this account has posted anywhere we crawled

    @property
    def removed(self) -> bool:
        return bool(self.removed_because)


@dataclass(frozen=True)
class Check:
    """One test. ``value`` is the figure; ``params`` fill the test's sentence in the translation table."""

    key: str
    status: Status
    value: float
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    reviews: int
    removed: int
    rating: float | None
    adjusted_rating: float | None
    grade: str
    checks: list[Check]

    def as_dict(self) -> dict[str, Any]:
        return {
            "reviews": self.reviews,
            "removed": self.removed,
            "rating": self.rating,
            "adjusted_rating": self.adjusted_rating,
            "grade": self.grade,
            "checks": [asdict(c) for c in self.checks],
        }


def _judge(value: float, warn_at: float, fail_at: float) -> Status:
    return "fail" if value >= fail_at else "warn" if value >= warn_at else "pass"


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass
class Tally:
    """Every figure the tests judge, summed over a group of reviews.

    ``tally`` sums it from review facts (the definition, checkable by hand); the pipeline sums the
    same figures with SQL over stored per-review facts (monitor.reputation.tallies), and both
    give the same Verdict because ``assess_tally`` is the only judge."""

    reviews: int = 0
    rating_sum: int = 0
    removed: int = 0
    removed_rating_sum: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    per_day: Counter[date] = field(default_factory=Counter)
    near_duplicates: int = 0
    once: int = 0  # reviews whose account posted one review anywhere we crawled (or has no account)
    once_rating_sum: int = 0
    professional: int = 0


def tally(facts: Sequence[ReviewFact], tz: ZoneInfo, signed: Signatures | None = None) -> Tally:
    dup = near_duplicate_ids(facts, signed)
    t = Tally()
    for f in facts:
        t.reviews += 1
        t.rating_sum += f.rating
        if f.removed:
            t.removed += 1
            t.removed_rating_sum += f.rating
            t.kinds.update(f.removed_because)
        t.per_day[f.posted.astimezone(tz).date()] += 1
        t.near_duplicates += f.id in dup
        if f.reviewer_reviews <= 1:
            t.once += 1
            t.once_rating_sum += f.rating
        t.professional += f.professional
    return t


def _mean_of(total: int, n: int) -> float | None:
    # statistics.fmean of ints is fsum/n, and a sum of ints below 2**53 is exact: the same float.
    return round(total / n, 2) if n else None


def flagged_share(t: Tally) -> Check:
    share = _share(t.removed, t.reviews)
    return Check("flagged_share", _judge(share, 0.10, 0.25), share,
                 {"n": t.removed, "total": t.reviews, "kinds": dict(sorted(t.kinds.items()))})


def burst_days(t: Tally) -> Check:
    per_day = t.per_day
    median = statistics.median(per_day.values()) if per_day else 0
    limit = max(BURST_MIN_REVIEWS, BURST_FACTOR * median)
    days = sorted(d for d, n in per_day.items() if n >= limit)
    in_bursts = sum(per_day[d] for d in days)
    share = _share(in_bursts, t.reviews)
    return Check("burst_days", _judge(share, 0.10, 0.25), share,
                 {"days": len(days), "n": in_bursts, "dates": [d.isoformat() for d in days[:5]]})


Signatures = dict[int, np.ndarray]  # review id -> MinHash signature, for texts long enough to sign


def signatures_by_id(facts: Sequence[ReviewFact]) -> Signatures:
    """Sign every fact's text once, so a shop and each of its listings reuse the same signatures."""
    sigs, usable = minhash.signatures([f.text for f in facts])
    return dict(zip((f.id for f, ok in zip(facts, usable, strict=True) if ok), sigs, strict=True))


def account(f: ReviewFact) -> tuple[str, int]:
    """Who posted a review: its reviewer, or (without one) the review itself."""
    return ("reviewer", f.reviewer_id) if f.reviewer_id is not None else ("review", f.id)


def near_duplicate_ids(facts: Sequence[ReviewFact], signed: Signatures | None = None) -> set[int]:
    """The reviews among ``facts`` that have a near-duplicate partner.

    The rule: review r counts when the group holds another review r' by another account (see
    ``account``) whose MinHash signature shares at least one LSH band key with r's and agrees
    with it in at least NEAR_DUPLICATE_SIMILARITY of the minhashes. It is a property of pairs,
    so a stored mark per review can be kept up to date from the reviews that arrive or leave
    (monitor.reputation.near_duplicates) and still equal this function over the whole group. (Before,
    minhash.cluster linked each bucket member to the bucket's first review only and counted
    whole connected clusters; that depends on which review is first and on chains of links.)

    Identical signatures are merged first, so a template posted by thousands of accounts costs
    one comparison per distinct signature, not one per pair of reviews.
    """
    signed = signed if signed is not None else signatures_by_id(facts)
    rows = [f for f in facts if f.id in signed]
    if len(rows) < 2:
        return set()
    uniq, inverse = np.unique(np.stack([signed[f.id] for f in rows]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    # Per distinct signature: one of its accounts, and whether it has two or more.
    first: list[tuple[str, int] | None] = [None] * len(uniq)
    several = np.zeros(len(uniq), dtype=bool)
    for f, u in zip(rows, inverse.tolist(), strict=True):
        who = account(f)
        if first[u] is None:
            first[u] = who
        elif first[u] != who:
            several[u] = True
    dup = several.copy()  # the same text from two accounts: similarity 1, every band shared
    number = {who: i for i, who in enumerate(dict.fromkeys(first))}
    codes = np.array([number[who] for who in first], dtype=np.int64)
    # Equal minhashes needed: the smallest count whose share reaches the threshold (the same
    # comparison as the incremental path's mean >= NEAR_DUPLICATE_SIMILARITY).
    need = next(k for k in range(minhash.NUM_PERM + 1) if k / minhash.NUM_PERM >= NEAR_DUPLICATE_SIMILARITY)
    keys = minhash.band_keys(uniq)
    for b in range(minhash.BANDS):
        order = np.argsort(keys[:, b], kind="stable")
        sorted_keys = keys[order, b]
        bounds = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1], True])
        shared = np.flatnonzero(np.diff(bounds) >= 2)  # most buckets hold one signature
        for lo, hi in zip(bounds[shared].tolist(), bounds[shared + 1].tolist(), strict=True):
            members = order[lo:hi]
            rows_left = members[~dup[members]]  # a review already counted needs no second partner
            # Rows in blocks: a bucket of thousands of distinct signatures stays a few MB at a time.
            step = max(1, (1 << 18) // len(members))
            for start in range(0, len(rows_left), step):
                part = rows_left[start:start + step]
                similar = (uniq[part][:, None, :] == uniq[members][None, :, :]).sum(axis=2) >= need
                # Another account on either side: one has two or more, or their single accounts differ.
                other = several[part][:, None] | several[members][None, :] | (codes[part][:, None] != codes[members][None, :])
                dup[part] |= (similar & other & (part[:, None] != members[None, :])).any(axis=1)
    return {f.id for f, u in zip(rows, inverse.tolist(), strict=True) if dup[u]}


def near_duplicates(t: Tally) -> Check:
    """Reviews whose text nearly repeats another account's review on the same target."""
    share = _share(t.near_duplicates, t.reviews)
    return Check("near_duplicates", _judge(share, 0.05, 0.15), share, {"n": t.near_duplicates})


def one_time_reviewers(t: Tally) -> Check:
    """Many single-review accounts only matter when they rate differently from everyone else."""
    others, others_sum = t.reviews - t.once, t.rating_sum - t.once_rating_sum
    share = _share(t.once, t.reviews)
    comparable = t.once >= MIN_GROUP and others >= MIN_GROUP
    gap = round(t.once_rating_sum / t.once - others_sum / others, 2) if comparable else None
    status: Status = "pass" if share < 0.5 or gap is None else _judge(abs(gap), 0.5, 1.0)
    return Check("one_time_reviewers", status, share, {"n": t.once, "gap": gap})


def rating_gap(t: Tally) -> Check:
    kept, kept_sum = t.reviews - t.removed, t.rating_sum - t.removed_rating_sum
    flagged_avg, kept_avg = _mean_of(t.removed_rating_sum, t.removed), _mean_of(kept_sum, kept)
    if t.removed < MIN_GROUP or not kept:
        return Check("rating_gap", "pass", 0.0, {"flagged_avg": flagged_avg, "kept_avg": kept_avg, "few": True})
    gap = round(t.removed_rating_sum / t.removed - kept_sum / kept, 2)
    return Check("rating_gap", _judge(abs(gap), 0.75, 1.5), gap,
                 {"flagged_avg": flagged_avg, "kept_avg": kept_avg, "few": False})


def professional_reviewers(t: Tally) -> Check:
    share = _share(t.professional, t.reviews)
    return Check("professional_reviewers", _judge(share, 0.02, 0.05), share, {"n": t.professional})


def grade_for(checks: Sequence[Check], removed_share: float) -> str:
    """A-F from the tests: a fail costs two points, a warning one; half the reviews removed is an F."""
    if removed_share >= 0.5:
        return "F"
    points = sum(2 if c.status == "fail" else 1 if c.status == "warn" else 0 for c in checks)
    return GRADES[0 if points == 0 else 1 if points == 1 else 2 if points <= 3 else 3 if points <= 5 else 4]


def assess(facts: Sequence[ReviewFact], tz: ZoneInfo, signed: Signatures | None = None) -> Verdict:
    """The adjusted rating (the mean without removed reviews), every test, and the grade.

    ``signed``: the facts' text signatures when the caller already has them (signatures_by_id)."""
    return assess_tally(tally(facts, tz, signed))


def assess_tally(t: Tally) -> Verdict:
    checks = [flagged_share(t), burst_days(t), near_duplicates(t), one_time_reviewers(t), rating_gap(t),
              professional_reviewers(t)]
    return Verdict(
        reviews=t.reviews,
        removed=t.removed,
        rating=_mean_of(t.rating_sum, t.reviews),
        adjusted_rating=_mean_of(t.rating_sum - t.removed_rating_sum, t.reviews - t.removed),
        grade=grade_for(checks, _share(t.removed, t.reviews)) if t.reviews else "-",
        checks=checks,
    )
