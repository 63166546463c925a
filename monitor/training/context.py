"""Reviewer and listing context of a review, derived inside the model's Pipeline from ordinary columns.

What a platform's spam filter weighs besides the words (Yelp's filter, measured on the Yelp
file in docs/detection.md): how old the account was when it wrote the review, how far the rating
sits from the listing's mean, how many of the account's reviews were a listing's first review,
how fast it posts. The trainer feeds the raw columns (dates as text, counts, ids) and this step
turns them into numbers, so `model predict` on a new file and `shopmon detect` on stored reviews
compute exactly what training did. Counts are heavy-tailed (friends, fans: 0 to thousands) and
are taken as log(1 + x); a missing value stays NaN for the imputer that follows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

#: Optional input columns with a meaning (beside ``rating`` and any numeric ``reviewer_*`` column).
CONTEXT_COLUMNS = (
    "created_at",  # when the review was written
    "reviewer_joined_at",  # when the account was opened (or first seen by shopmon)
    "reviewer_total_reviews",  # reviews the platform shows for the account
    "reviewer_first_reviews",  # how many of those were the first review of their listing
    "listing_id",
    "listing_rating",  # the listing's mean rating as the platform shows it
)
#: Context columns that are not numbers themselves (dates, ids): only derived features come from them.
NOT_NUMBERS = ("created_at", "reviewer_joined_at", "listing_id")
#: Derived features, each with the input columns it needs (``listing_mean`` is listing_rating, else
#: the mean rating of the listing's reviews in the same batch).
DERIVED = {
    "account_age_days": ("created_at", "reviewer_joined_at"),
    "rating_deviation": ("rating", "listing_mean"),
    "extreme_rating": ("rating",),
    "first_review_share": ("reviewer_first_reviews", "reviewer_total_reviews"),
    "reviews_per_day": ("reviewer_total_reviews", "created_at", "reviewer_joined_at"),
}


def context_columns(frame: pd.DataFrame) -> list[str]:
    """The context columns a table carries (what a model trained on it will take)."""
    return [c for c in CONTEXT_COLUMNS if c in frame.columns]


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype("string"), errors="coerce", utc=True, format="mixed")


def _numbers(values: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(values).replace("", np.nan), errors="coerce").to_numpy(dtype=float)


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


class ContextFeatures(TransformerMixin, BaseEstimator):
    """DataFrame of numeric + context columns -> numeric matrix (numbers log-scaled, context derived).

    ``numeric``: numeric columns used as they are (log-scaled); ``context``: columns from
    CONTEXT_COLUMNS. Which derived features exist is fixed at fit from the columns given.
    """

    def __init__(self, numeric: list[str] | None = None, context: list[str] | None = None) -> None:
        self.numeric = numeric
        self.context = context

    def fit(self, X: pd.DataFrame, y: Any = None) -> ContextFeatures:
        have = set(self.numeric or []) | set(self.context or [])
        if "listing_rating" in have or "listing_id" in have:
            have.add("listing_mean")
        self.derived_ = [name for name, needs in DERIVED.items() if set(needs) <= have]
        self.n_features_in_ = len(self.numeric or []) + len(self.context or [])
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([*(self.numeric or []), *self.derived_], dtype=object)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        cols = [_signed_log(_numbers(frame[c])) for c in self.numeric or []]
        cols += [self._derive(frame, name) for name in self.derived_]
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))

    def _derive(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        if name in ("account_age_days", "reviews_per_day"):
            age = (_dates(frame["created_at"]) - _dates(frame["reviewer_joined_at"])).dt.days.to_numpy(dtype=float)
            age = np.clip(age, 0, None)
            if name == "account_age_days":
                return np.log1p(age)
            return _signed_log(_numbers(frame["reviewer_total_reviews"]) / np.maximum(age, 1.0))
        if name == "extreme_rating":
            rating = _numbers(frame["rating"])
            return np.where(np.isnan(rating), np.nan, np.isin(rating, (1.0, 5.0)).astype(float))
        if name == "first_review_share":
            return _numbers(frame["reviewer_first_reviews"]) / np.maximum(_numbers(frame["reviewer_total_reviews"]), 1)
        # rating_deviation
        rating = _numbers(frame["rating"])
        if "listing_rating" in frame.columns:
            mean = _numbers(frame["listing_rating"])
        else:
            listing = frame["listing_id"].astype(str).to_numpy()
            mean = pd.Series(rating).groupby(listing).transform("mean").to_numpy(dtype=float)
        return np.abs(rating - mean)
