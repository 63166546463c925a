"""The columns a model trained with reviewer/listing context reads, built from stored reviews.

`shopmon model train` on a file with reviewer and listing columns gives a model that takes them
(monitor.training.context derives account age, rating deviation, first-review share... inside the
Pipeline). Scoring stored reviews must hand it the same columns, named as in a training file:

| column | from the database |
|---|---|
| rating, created_at, listing_id | the review (created_at: when posted, else when first seen) |
| listing_rating | ``Listing.rating_avg`` (the platform's shown mean) |
| reviewer_joined_at | ``Reviewer.extra["joined_at"]`` when a spider saw it, else ``Reviewer.first_seen`` |
| reviewer_total_reviews, reviewer_first_reviews | ``Reviewer.extra["review_count"]``, ``["first_review_count"]`` |
| reviewer_review_count, reviewer_mean_rating, ... | the reviewer's stored history (as a file's rows would give) |
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session

from models import Listing, Review, Reviewer
from monitor.in_lists import id_filters
from monitor.training.io import add_numeric_columns

_EXTRA = {"reviewer_joined_at": "joined_at", "reviewer_total_reviews": "review_count",
          "reviewer_first_reviews": "first_review_count"}


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def context_frame(session: Session, rows: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    """One row per review (rows carry id, rating, listing_id, reviewer_id) with the wanted ``columns``;
    what the database does not know is NaN (the model's imputer fills it)."""
    ids = [int(r.id) for r in rows]
    out = pd.DataFrame({"rating": [np.nan if r.rating is None else float(r.rating) for r in rows],
                        "listing_id": [str(r.listing_id) if r.listing_id is not None else "" for r in rows],
                        "reviewer_id": [r.reviewer_id for r in rows]}, index=ids)
    when = func.coalesce(Review.created_at, Review.first_seen)
    posted: dict[int, str] = {}
    for where in id_filters(Review.id, ids):
        posted.update({rid: _iso(t) for rid, t in session.execute(select(Review.id, when).where(where))})
    out["created_at"] = [posted.get(i, "") for i in ids]
    listings = {int(x) for x in out["listing_id"] if x}
    shown: dict[str, float] = {}
    for where in id_filters(Listing.id, listings):
        stmt = select(Listing.id, Listing.rating_avg).where(where)
        shown.update({str(lid): (np.nan if avg is None else float(avg)) for lid, avg in session.execute(stmt)})
    out["listing_rating"] = [shown.get(x, np.nan) for x in out["listing_id"]]
    _reviewers(session, out)
    return out.reset_index(drop=True).reindex(columns=list(columns))


def _reviewers(session: Session, out: pd.DataFrame) -> None:
    """Account facts and history aggregates of each review's reviewer."""
    who = sorted({int(r) for r in out["reviewer_id"] if r is not None and not pd.isna(r)})
    facts: dict[int, dict[str, Any]] = {}
    history: list[tuple[int, float, str]] = []
    for where in id_filters(Reviewer.id, who):
        for rid, first_seen, extra in session.execute(select(Reviewer.id, Reviewer.first_seen, Reviewer.extra).where(where)):
            extra = extra or {}
            facts[rid] = {col: extra.get(key) for col, key in _EXTRA.items()}
            facts[rid]["reviewer_joined_at"] = facts[rid]["reviewer_joined_at"] or _iso(first_seen)
    when = func.coalesce(Review.created_at, Review.first_seen)
    for where in id_filters(Review.reviewer_id, who):
        stmt = select(Review.reviewer_id, Review.rating, when).where(where, Review.deleted_at.is_(None))
        history += [(rid, np.nan if r is None else float(r), _iso(t)) for rid, r, t in session.execute(stmt)]
    for col in _EXTRA:
        out[col] = [facts.get(int(r), {}).get(col) if r is not None and not pd.isna(r) else None
                    for r in out["reviewer_id"]]
        if col != "reviewer_joined_at":
            out[col] = pd.to_numeric(out[col], errors="coerce")
    if not history:
        return
    hist = add_numeric_columns(pd.DataFrame(history, columns=["reviewer_id", "rating", "created_at"]))
    per = hist.drop(columns=["rating", "created_at"]).groupby("reviewer_id").first()
    for col in per.columns:
        out[col] = out["reviewer_id"].map(per[col]).astype(float)
