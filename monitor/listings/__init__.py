"""Listings whose images don't match: what the listing says vs what its photos and buyers show.

Public entry points, each imported from its module (this package imports none of them, so a
module here can be imported without loading the rest, and the default models' trainer in
``monitor.default_models`` can use ``listings.train`` while ``listings.backend`` calls it)::

    monitor.listings.check.check_listings(session, settings, *, listing_id=None, now=None) -> int
    monitor.listings.batch.score_file(settings, in_path, out_path) -> BatchSummary
    monitor.listings.train.train_from_catalogue(settings, csv_path) -> TrainResult
    monitor.listings.backend.load_backend(settings) -> ImageBackend
"""
