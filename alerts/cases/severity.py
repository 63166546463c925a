"""How bad a case is: one score from the rating, abuse flags, the listing's sales and the review's reach.

The order of the levels (low < medium < high < critical) is ``models.cases.severity_rank``, the one scale.
"""

from __future__ import annotations

from models.catalog import Listing
from models.reviews import Review

_FLAG_POINTS = {"malicious": 3, "attack": 3, "professional": 2, "deceptive": 1, "watchlist": 1}


def severity_for(
    rating: int | None,
    kinds: list[str],
    *,
    sales: int | None = None,
    helpful_votes: int | None = None,
    photos: int = 0,
) -> tuple[str, list[str]]:
    """Severity and the reasons for it: worse ratings, abuse flags, busy listings and visible reviews weigh more."""
    points = 0
    reasons: list[str] = []
    if rating is not None and rating <= 3:
        p = {1: 3, 2: 2, 3: 1}[max(rating, 1)]
        points += p
        reasons.append(f"{rating}-star review (+{p})")
    for kind in sorted(set(kinds)):
        if kind in _FLAG_POINTS:
            points += _FLAG_POINTS[kind]
            reasons.append(f"flagged {kind} (+{_FLAG_POINTS[kind]})")
    if sales is not None and sales >= 100:
        p = 2 if sales >= 1000 else 1
        points += p
        reasons.append(f"listing has {sales} sales (+{p})")
    # Reach: helpful votes and photos push a review up the listing page, where buyers read it.
    if helpful_votes is not None and helpful_votes >= 3:
        p = 2 if helpful_votes >= 10 else 1
        points += p
        reasons.append(f"{helpful_votes} helpful votes (+{p})")
    if photos:
        points += 1
        reasons.append("review has photos (+1)")
    if points >= 7:
        level = "critical"
    elif points >= 5:
        level = "high"
    elif points >= 3:
        level = "medium"
    else:
        level = "low"
    return level, reasons


def review_severity(review: Review, listing: Listing | None, kinds: list[str]) -> tuple[str, list[str]]:
    return severity_for(
        review.rating,
        kinds,
        sales=listing.sales if listing else None,
        helpful_votes=review.helpful_votes,
        photos=len(review.photos or []),
    )
