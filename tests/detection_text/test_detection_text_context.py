"""Reviewer/listing context features: derived in the Pipeline, used by `model train`/`predict` and `detect`."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select

from models import Flag, Listing, Review, Reviewer, Shop
from monitor.cli import main
from monitor.config import Settings
from monitor.training.context import ContextFeatures

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_context_features_are_derived_from_ordinary_columns() -> None:
    frame = pd.DataFrame({
        "rating": [1.0, 5.0, 4.0, np.nan],
        "created_at": ["2012-01-25", "3/1/2012", "2012-06-01", ""],
        "reviewer_joined_at": ["January 2012", "2010-03-01", "", "2011-01-01"],
        "reviewer_total_reviews": [1.0, 100.0, 10.0, 4.0],
        "reviewer_first_reviews": [1.0, 5.0, 0.0, np.nan],
        "listing_id": ["a", "a", "b", "b"],
    })
    cols = list(frame.columns)
    step = ContextFeatures([c for c in cols if c not in ("created_at", "reviewer_joined_at", "listing_id")],
                           cols).fit(frame)
    out = pd.DataFrame(step.transform(frame), columns=step.get_feature_names_out())
    assert out["account_age_days"].iloc[0] == pytest.approx(np.log1p(24))
    assert np.isnan(out["account_age_days"].iloc[2]) and np.isnan(out["account_age_days"].iloc[3])
    # No listing_rating column: the deviation is from the mean of the listing's ratings given.
    assert out["rating_deviation"].tolist()[:3] == [2.0, 2.0, 0.0]
    assert out["extreme_rating"].tolist()[:3] == [1.0, 1.0, 0.0]
    assert out["first_review_share"].tolist()[:3] == [1.0, 0.05, 0.0]
    assert out["reviewer_total_reviews"].iloc[1] == pytest.approx(np.log1p(100))
    # Deviation from the platform's listing mean when the file has it.
    with_mean = frame.assign(listing_rating=[4.5, 4.5, 2.0, 2.0])
    step = ContextFeatures(["rating"], ["listing_rating"]).fit(with_mean)
    dev = pd.DataFrame(step.transform(with_mean), columns=step.get_feature_names_out())["rating_deviation"]
    assert dev.tolist()[:3] == [3.5, 0.5, 2.0]


def _account_age_rows(n: int = 160) -> list[list[str]]:
    """Same kind of text for everyone; only the account's age tells the classes apart."""
    rng = random.Random(1)
    words = ["food", "service", "table", "good", "place", "dinner", "staff", "menu"]
    rows = []
    for i in range(n):
        fake = i % 2 == 0
        created = datetime(2012, 1, 1) + timedelta(days=rng.randrange(300))
        joined = created - timedelta(days=rng.randrange(0, 3) if fake else rng.randrange(400, 1500))
        rows.append([f"r{i}", " ".join(rng.choices(words, k=8)), str(rng.randint(1, 5)), created.strftime("%m/%d/%Y"),
                     joined.strftime("%B %Y") if not fake else joined.strftime("%Y-%m-%d"), f"u{i}", str(int(fake))])
    return rows


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["reviewID", "reviewContent", "rating", "date", "yelpJoinDate", "reviewerID", "flagged"])
        w.writerows(rows)
    return path


MAP = ["--map", "reviewContent=text", "--map", "date=created_at", "--map", "yelpJoinDate=reviewer_joined_at",
       "--map", "reviewerID=reviewer_id", "--map", "reviewID=id"]


def test_model_cv_and_predict_use_the_context(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    data = _write(tmp_path / "yelp.tsv", _account_age_rows())
    assert main(["model", "cv", str(data), "--label", "flagged", *MAP, "--group-column", "reviewer_id",
                 "--folds", "4"]) == 0
    assert json.loads(capsys.readouterr().out)["roc_auc"] > 0.95  # the text alone is noise here
    assert main(["model", "train", str(data), "--name", "deceptive", "--label", "flagged", *MAP, "--folds", "4",
                 "--no-report"]) == 0
    version = capsys.readouterr().out.strip().splitlines()[-1]
    new = _write(tmp_path / "new.tsv", [
        ["n1", "good food nice staff", "5", "03/01/2012", "2012-03-01", "x", "0"],
        ["n2", "good food nice staff", "5", "03/01/2012", "June 2008", "y", "0"],
    ])
    assert main(["model", "predict", str(new), "--model", "deceptive", *MAP, "--version", version]) == 0
    scores = {r["id"]: float(r["score"]) for r in csv.DictReader(capsys.readouterr().out.splitlines())}
    assert scores["n1"] > 0.5 > scores["n2"]
    # A file without the context the model was trained with is refused by name.
    (tmp_path / "bare.csv").write_text("text\ngood food\n", encoding="utf-8")
    assert main(["model", "predict", str(tmp_path / "bare.csv"), "--model", "deceptive"]) == 2
    assert "missing column" in capsys.readouterr().err


def test_detect_gives_stored_reviews_their_context(
    db_settings: Settings, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.detection.runner as runner
    from monitor.detection import detect
    from monitor.registry import registry_for
    from monitor.training.fit import train
    from monitor.training.io import read_table, parse_mapping

    monkeypatch.setattr(runner, "_behaviour_run", lambda *a, **k: {})
    data = _write(tmp_path / "yelp.tsv", _account_age_rows())
    table = read_table(data, label="flagged", mapping=parse_mapping(MAP[1::2]))
    trained = train(table, folds=4)
    assert "reviewer_joined_at" in trained.params["input_columns"]
    registry_for(db_settings).save("deceptive", trained.estimator, metrics=trained.metrics, params=trained.params,
                                   thresholds=trained.thresholds, data_fingerprint="sha256:test")

    shop = Shop(platform="jd", external_id="s", name="s")
    session.add(shop)
    session.flush()
    listing = Listing(platform="jd", external_id="l", shop_id=shop.id, title="item", rating_avg=4.0)
    session.add(listing)
    fresh = Reviewer(platform="jd", external_id="fresh", first_seen=NOW - timedelta(days=1))
    old = Reviewer(platform="jd", external_id="old", first_seen=NOW - timedelta(days=900))
    session.add_all([fresh, old])
    session.flush()
    for who in (fresh, old):
        session.add(Review(platform="jd", external_id=f"r-{who.external_id}", text="good food nice staff", rating=5,
                           shop_id=shop.id, listing_id=listing.id, reviewer_id=who.id, created_at=NOW))
    session.commit()
    detect(session, db_settings, now=NOW)
    flagged = session.exec(select(Review.external_id).join(Flag, Flag.target_id == Review.id)
                           .where(Flag.kind == "deceptive")).all()
    assert flagged == ["r-fresh"]
