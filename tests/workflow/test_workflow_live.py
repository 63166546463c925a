"""The documented commands against the local marketplace: every crawl runs the pipeline, edits and
deletions reach the cases, and a cut page never removes a review or moves a case."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import Alert, Case, CaseEvent, CrawlRun, Review
from monitor.cli import main
from monitor.config import load_settings
from monitor.db import get_engine
from market_driver import Marketplace

pytestmark = pytest.mark.slow


def cli(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def session_for(config: Path) -> Session:
    return Session(get_engine(load_settings(config)), expire_on_commit=False)


def last_run(config: Path) -> CrawlRun:
    with session_for(config) as s:
        return s.exec(select(CrawlRun).order_by(CrawlRun.id.desc())).first()


def case_of(s: Session, review_external_id: str) -> Case:
    return s.exec(select(Case).join(Review, Review.id == Case.review_id)
                  .where(Review.external_id == review_external_id)).one()


def test_the_documented_sequence_opens_cases_and_sends_them(shop_config, capsys) -> None:  # noqa: ANN001
    config = shop_config("jd-demo")
    assert cli(config, "db", "upgrade") == 0
    assert cli(config, "crawl") == 0
    assert cli(config, "detect") == 0
    assert cli(config, "alerts", "send") == 0
    out = capsys.readouterr().out
    assert "opened " in out and "queued " in out
    with session_for(config) as s:
        cases = s.exec(select(Case)).all()
        bad = s.exec(select(Review).where(Review.rating <= 3)).all()
        assert cases and {c.review_id for c in cases} >= {r.id for r in bad}
        assert s.exec(select(Alert).where(Alert.kind == "serious_case", Alert.status == "sent")).all()
    assert list((load_settings(config).outbox_path).glob("**/*.eml"))


def test_an_edited_review_moves_its_case_on_an_incremental_crawl(shop_config, market: Marketplace) -> None:
    config = shop_config("jd-demo")
    assert cli(config, "crawl") == 0
    with session_for(config) as s:
        assert case_of(s, "880000080").state == "open"
    # the buyer raises a 1-star review to 5 stars: the listing's review count does not change
    market.edit_review("880000080", rating=5, text="客服联系后换了新的，很好用。")
    assert cli(config, "crawl", "--incremental") == 0
    run = last_run(config)
    assert (run.full, run.reviews_updated, run.reviews_deleted) == (False, 1, 0)
    with session_for(config) as s:
        case = case_of(s, "880000080")
        assert (case.state, case.rating) == ("modified", 5)
        event = s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "state")).one()
        assert (event.actor, event.note) == ("shopmon", "the review is now rated 5 (was 1)")


def _cut_mid_list(market: Marketplace, path: str) -> bytes:
    _, _, body = market.respond(path)
    cards = [i for i in range(len(body)) if body.startswith(b'data-hook="review"', i)]
    assert len(cards) == 10
    return body[: cards[4] + 200]  # HTTP 200, half a list, no pagination bar


def _case_states(config: Path) -> dict[int, tuple[str, object, object]]:
    with session_for(config) as s:
        return {c.id: (c.state, c.last_progress_at, c.escalated_at) for c in s.exec(select(Case)).all()}


def test_a_cut_reviews_page_deletes_nothing_and_moves_no_case(shop_config, market: Marketplace) -> None:
    config = shop_config("amz-demo")
    assert cli(config, "crawl", "--full") == 0
    before = _case_states(config)
    assert before
    path = "/product-reviews/B0DEMO0002/?sortBy=recent&pageNumber=1"
    market.inject("/product-reviews/B0DEMO0002/", body=_cut_mid_list(market, path), times=1)

    assert cli(config, "crawl", "--full") == 0
    run = last_run(config)
    # the cut page is judged incomplete: no evidence at all, not even a first miss
    assert (run.full, run.reviews_deleted, run.reviews_missing) == (True, 0, 0)
    assert _case_states(config) == before
    with session_for(config) as s:
        assert s.exec(select(Review).where(Review.deleted_at.is_not(None))).all() == []
        system = s.exec(select(CaseEvent.action).where(CaseEvent.actor == "shopmon",
                                                      CaseEvent.action != "opened")).all()
        assert system == []

    # The page is whole again and one review is really gone: missing once, deleted the next time.
    gone = market.listings()[-2]["reviews"][0]["id"]  # B0DEMO0001's newest, a 1-star review
    market.delete_review(gone)
    assert cli(config, "crawl", "--full") == 0
    run = last_run(config)
    assert (run.reviews_deleted, run.reviews_missing) == (0, 1)
    with session_for(config) as s:
        assert s.exec(select(Review).where(Review.missed_crawls > 0)).one().external_id == "R" + gone
        case = case_of(s, "R" + gone)
        assert case.state == before[case.id][0]
        assert s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                              CaseEvent.action == "possibly_removed")).first() is not None
    assert cli(config, "crawl", "--full") == 0
    assert last_run(config).reviews_deleted == 1
    with session_for(config) as s:
        assert case_of(s, "R" + gone).state == "modified"
        assert len(s.exec(select(Case).where(Case.state == "modified")).all()) == 1
