"""Listings whose images don't match: what the listing says vs what its photos and buyers show.

Public entry points::

    check_listings(session, settings, *, listing_id=None, now=None) -> int
    score_file(settings, in_path, out_path) -> BatchSummary
    train_from_catalogue(settings, csv_path) -> TrainResult
    load_backend(settings) -> ImageBackend
"""

from monitor.listings.backend import ImageBackend, ImageReading, load_backend
from monitor.listings.batch import score_file
from monitor.listings.check import check_listings, check_listings_detailed
from monitor.listings.scoring import ListingInput, ListingScore, ListingScorer
from monitor.listings.train import train_from_catalogue

__all__ = [
    "ImageBackend",
    "ImageReading",
    "ListingInput",
    "ListingScore",
    "ListingScorer",
    "check_listings",
    "check_listings_detailed",
    "load_backend",
    "score_file",
    "train_from_catalogue",
]
