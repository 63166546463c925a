"""Items are plain dicts with ``kind`` = "listing" or "review" (Scrapy accepts dicts as items).

The field lists and builders live with the parsers (spiders.parsing.common) because the parse
functions must run without Scrapy; this module is the place spiders and pipelines import from.
"""

from spiders.parsing.common import LISTING_FIELDS, REVIEW_FIELDS, listing_item, public, review_item

__all__ = ["LISTING_FIELDS", "REVIEW_FIELDS", "listing_item", "public", "review_item"]
