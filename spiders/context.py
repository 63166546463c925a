"""What one crawl run shares between the spider and its pipelines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.config import Settings, ShopConfig
from spiders.item_rows import parse_time
from spiders.storage import ItemStore


@dataclass
class ReviewRead:
    """What one crawl read of a listing's review pages, newest first: the evidence that stored
    reviews it did not show are gone (only pages judged complete count)."""

    pages: int = 0
    complete: bool = True
    to_end: bool = False
    oldest: datetime | None = None

    def add(self, *, complete: bool, created: list[Any], last: bool) -> None:
        self.pages += 1
        self.complete = self.complete and complete
        self.to_end = self.to_end or last
        for value in created:
            when = parse_time(value)
            if when is not None and (self.oldest is None or when < self.oldest):
                self.oldest = when

    def newer_than(self) -> tuple[bool, datetime | None]:
        """(usable, boundary): stored reviews newer than the boundary (all, when None) had to be shown."""
        if not self.complete:
            return False, None
        if self.to_end:
            return True, None
        return self.oldest is not None, self.oldest


@dataclass
class CrawlContext:
    settings: Settings
    shop: ShopConfig
    shop_row_id: int | None
    full: bool = False
    run_id: int | None = None
    store: ItemStore = field(init=False)
    rejects_path: Path = field(init=False)
    review_reads: dict[str, ReviewRead] = field(default_factory=dict)
    failure: str | None = None
    failure_detail: str | None = None

    def __post_init__(self) -> None:
        self.store = ItemStore(self.settings, shop_id=self.shop_row_id, platform=self.shop.platform)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.rejects_path = self.settings.data_dir / "crawl-rejects" / f"{self.shop.id}-{stamp}-{self.run_id or 0}.jsonl"

    def reject(self, item: dict[str, Any], reason: str) -> None:
        """Keep a refused item on disk with its reason: bad data is counted, never just dropped."""
        self.rejects_path.parent.mkdir(parents=True, exist_ok=True)
        with self.rejects_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"reason": reason, "item": item}, ensure_ascii=False, default=str) + "\n")

    def read_reviews(self, listing_id: str, *, complete: bool, created: list[Any], last: bool) -> None:
        self.review_reads.setdefault(listing_id, ReviewRead()).add(complete=complete, created=created, last=last)

    def fail(self, kind: str, detail: str) -> None:
        if self.failure is None:  # the first cause is the one worth reporting
            self.failure, self.failure_detail = kind, detail
