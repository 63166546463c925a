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
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np


Status = Literal["pass", "warn", "fail"]
#: Flag kinds whose reviews are left out of the adjusted rating.
REMOVING_KINDS = ("attack", "malicious", "deceptive")
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


def _mean(values: Sequence[int]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _judge(value: float, warn_at: float, fail_at: float) -> Status:
    return "fail" if value >= fail_at else "warn" if value >= warn_at else "pass"


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def flagged_share(facts: Sequence[ReviewFact]) -> Check:
    removed = [f for f in facts if f.removed]
    kinds = Counter(k for f in removed for k in f.removed_because)
    share = _share(len(removed), len(facts))
    return Check("flagged_share", _judge(share, 0.10, 0.25), share,
                 {"n": len(removed), "total": len(facts), "kinds": dict(kinds)})


def burst_days(facts: Sequence[ReviewFact], tz: ZoneInfo) -> Check:
    per_day = Counter(f.posted.astimezone(tz).date() for f in facts)
    median = statistics.median(per_day.values()) if per_day else 0
    limit = max(BURST_MIN_REVIEWS, BURST_FACTOR * median)
    days = sorted(d for d, n in per_day.items() if n >= limit)
    in_bursts = sum(per_day[d] for d in days)
    share = _share(in_bursts, len(facts))
    return Check("burst_days", _judge(share, 0.10, 0.25), share,
                 {"days": len(days), "n": in_bursts, "dates": [d.isoformat() for d in days[:5]]})


Signatures = dict[int, np.ndarray]  # review id -> MinHash signature, for texts long enough to sign


def signatures_by_id(facts: Sequence[ReviewFact]) -> Signatures:
    """Sign every fact's text once, so a shop and each of its listings reuse the same signatures."""
    # Imported on first use: the detection package loads scikit-learn, which the alert rules
    # (that import this module through the reports) must not pay for at start-up.
    from monitor.detection import minhash

    sigs, usable = minhash.signatures([f.text for f in facts])
    return dict(zip((f.id for f, ok in zip(facts, usable, strict=True) if ok), sigs, strict=True))


def near_duplicates(facts: Sequence[ReviewFact], signed: Signatures | None = None) -> Check:
    """Reviews whose text nearly repeats another account's review on the same target."""
    from monitor.detection import minhash  # see signatures_by_id

    signed = signed if signed is not None else signatures_by_id(facts)
    rows = np.array([i for i, f in enumerate(facts) if f.id in signed], dtype=np.int64)
    dup = 0
    if len(rows) >= 2:
        sigs = np.stack([signed[facts[int(i)].id] for i in rows])
        labels = minhash.cluster(sigs, NEAR_DUPLICATE_SIMILARITY).label
        accounts: dict[int, set[object]] = {}
        for row, label in zip(rows, labels, strict=True):
            if label >= 0:
                fact = facts[int(row)]
                accounts.setdefault(int(label), set()).add(fact.reviewer_id if fact.reviewer_id is not None else fact.id)
        # A buyer repeating themselves is not a template; two or more accounts are.
        dup = sum(
            1 for row, label in zip(rows, labels, strict=True) if label >= 0 and len(accounts[int(label)]) >= 2
        )
    share = _share(dup, len(facts))
    return Check("near_duplicates", _judge(share, 0.05, 0.15), share, {"n": dup})


def one_time_reviewers(facts: Sequence[ReviewFact]) -> Check:
    """Many single-review accounts only matter when they rate differently from everyone else."""
    once = [f.rating for f in facts if f.reviewer_reviews <= 1]
    others = [f.rating for f in facts if f.reviewer_reviews > 1]
    share = _share(len(once), len(facts))
    comparable = len(once) >= MIN_GROUP and len(others) >= MIN_GROUP
    gap = round(statistics.fmean(once) - statistics.fmean(others), 2) if comparable else None
    status: Status = "pass" if share < 0.5 or gap is None else _judge(abs(gap), 0.5, 1.0)
    return Check("one_time_reviewers", status, share, {"n": len(once), "gap": gap})


def rating_gap(facts: Sequence[ReviewFact]) -> Check:
    flagged = [f.rating for f in facts if f.removed]
    kept = [f.rating for f in facts if not f.removed]
    if len(flagged) < MIN_GROUP or not kept:
        return Check("rating_gap", "pass", 0.0, {"flagged_avg": _mean(flagged), "kept_avg": _mean(kept), "few": True})
    gap = round(statistics.fmean(flagged) - statistics.fmean(kept), 2)
    return Check("rating_gap", _judge(abs(gap), 0.75, 1.5), gap,
                 {"flagged_avg": _mean(flagged), "kept_avg": _mean(kept), "few": False})


def professional_reviewers(facts: Sequence[ReviewFact]) -> Check:
    n = sum(1 for f in facts if f.professional)
    share = _share(n, len(facts))
    return Check("professional_reviewers", _judge(share, 0.02, 0.05), share, {"n": n})


def grade_for(checks: Sequence[Check], removed_share: float) -> str:
    """A-F from the tests: a fail costs two points, a warning one; half the reviews removed is an F."""
    if removed_share >= 0.5:
        return "F"
    points = sum(2 if c.status == "fail" else 1 if c.status == "warn" else 0 for c in checks)
    return GRADES[0 if points == 0 else 1 if points == 1 else 2 if points <= 3 else 3 if points <= 5 else 4]


def assess(facts: Sequence[ReviewFact], tz: ZoneInfo, signed: Signatures | None = None) -> Verdict:
    """The adjusted rating (the mean without removed reviews), every test, and the grade.

    ``signed``: the facts' text signatures when the caller already has them (signatures_by_id)."""
    kept = [f.rating for f in facts if not f.removed]
    checks = [
        flagged_share(facts),
        burst_days(facts, tz),
        near_duplicates(facts, signed),
        one_time_reviewers(facts),
        rating_gap(facts),
        professional_reviewers(facts),
    ]
    removed = len(facts) - len(kept)
    return Verdict(
        reviews=len(facts),
        removed=removed,
        rating=_mean([f.rating for f in facts]),
        adjusted_rating=_mean(kept),
        grade=grade_for(checks, _share(removed, len(facts))) if facts else "-",
        checks=checks,
    )
