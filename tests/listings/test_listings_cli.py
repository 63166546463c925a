"""`shopmon listings train|check|score` through the CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from listings_testkit import BLUE, RED
from models import Flag, Listing, ListingImage
from monitor.cli import main
from monitor.db import get_engine
from monitor.paths import FIXTURES


def _env(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHOPMON_MODEL_DIR", str(settings.model_dir))


def test_train_registers_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(FIXTURES / "listings" / "catalogue", shop / "catalogue")
    rows = (FIXTURES / "listings" / "catalogue.csv").read_text(encoding="utf-8").splitlines()
    # One row points at a missing image: skipped and reported, not fatal.
    rows.append("catalogue/nope.jpg,Red T-Shirt,T-Shirt,Red")
    (shop / "catalogue.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))

    assert main(["listings", "train", "--data", str(shop / "catalogue.csv")]) == 0
    out, err = capsys.readouterr()
    assert "image_category-" in out and "image_colour-" in out and "(live)" in out
    assert "nope.jpg" in err and "not found" in err
    versions = sorted(p.name for p in (tmp_path / "data" / "models").iterdir())
    assert versions == ["image_category", "image_colour"]

    # A second training run is a candidate, not silently live.
    assert main(["listings", "train", "--data", str(shop / "catalogue.csv")]) == 0
    assert "candidate" in capsys.readouterr().out


def test_train_rejects_a_catalogue_without_required_columns(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "bad.csv").write_text("image,name\na.jpg,x\n", encoding="utf-8")
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    assert main(["listings", "train", "--data", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lacks column(s) title, category, colour" in err


def test_score_file_with_paths_urls_and_bad_lines(
    lsettings, monkeypatch, capsys, draw, tmp_path: Path, http_root: tuple[str, Path]
) -> None:
    _env(monkeypatch, lsettings)
    base, www = http_root
    work = tmp_path / "batch"
    (work / "img").mkdir(parents=True)
    draw("tshirt", RED).save(work / "img" / "red.png")
    draw("tshirt", BLUE).save(www / "blue.png")
    Image.new("RGBA", (10, 10)).save(work / "img" / "blank.webp")
    lines = [
        {"listing_id": "a", "title": "Blue T-shirt", "attributes": {}, "images": ["img/red.png"], "buyer_photos": []},
        {"listing_id": "b", "title": "蓝色T恤", "attributes": {"颜色": "蓝色"}, "images": [f"{base}/blue.png"]},
        {"listing_id": "c", "title": "Blue T-shirt", "images": [f"{base}/missing.jpg"]},
        "not json at all",
        {"listing_id": "e", "title": "Blue T-shirt", "images": "img/red.png", "buyer_photos": [7]},
    ]
    src = work / "in.jsonl"
    src.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                   encoding="utf-8")
    out = tmp_path / "out" / "scores.jsonl"
    monkeypatch.chdir(tmp_path)  # relative paths must resolve against the input file, not the cwd

    assert main(["listings", "score", "--in", str(src), "--out", str(out)]) == 0
    assert "lines 5, scored 2, flagged 1, unscored 3" in capsys.readouterr().out
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["listing_id"] for g in got] == ["a", "b", "c", None, None]
    assert set(got[0]) == {"listing_id", "score", "reasons"}
    assert got[0]["score"] >= 0.5 and any("blue" in r and "red" in r for r in got[0]["reasons"])
    assert got[1]["score"] < 0.5
    assert got[2]["score"] is None and any("HTTP 404" in r for r in got[2]["reasons"])
    assert "line 4 is not valid JSON" in got[3]["reasons"][0]
    assert "'buyer_photos' must be a list" in got[4]["reasons"][0]


def test_score_missing_input_is_one_line(lsettings, monkeypatch, capsys, tmp_path: Path) -> None:
    _env(monkeypatch, lsettings)
    assert main(["listings", "score", "--in", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "input file not found" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_check_prints_flagged_listing_and_writes_flag(ldb_settings, monkeypatch, capsys, draw) -> None:
    _env(monkeypatch, ldb_settings)
    folder = ldb_settings.images_path / "full"
    folder.mkdir(parents=True)
    draw("handbag", RED).save(folder / "bag.png")
    with Session(get_engine(ldb_settings)) as s:
        listing = Listing(platform="jd", external_id="1", title="Red backpack 双肩包")
        s.add(listing)
        s.flush()
        s.add(ListingImage(listing_id=listing.id, url="https://img/1.png", role="main", local_path="full/bag.png"))
        s.commit()
        lid = listing.id
    assert main(["listings", "check", "--listing", str(lid)]) == 0
    out = capsys.readouterr()
    assert f"FLAG listing {lid}" in out.out and "Handbag" in out.out
    assert "checked 1 listing(s), flagged 1" in out.err + out.out
    with Session(get_engine(ldb_settings)) as s:
        assert len(s.exec(select(Flag).where(Flag.kind == "image_mismatch")).all()) == 1
    assert main(["listings", "check", "--listing", "9999"]) == 2
    assert "no listing with id 9999" in capsys.readouterr().err


def test_unknown_backend_is_a_config_error(lsettings, monkeypatch, capsys, tmp_path: Path) -> None:
    _env(monkeypatch, lsettings)
    monkeypatch.setenv("SHOPMON_LISTINGS__BACKEND", "clip")
    (tmp_path / "in.jsonl").write_text("{}\n", encoding="utf-8")
    assert main(["listings", "score", "--in", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "unknown listings.backend 'clip' (installed: features" in capsys.readouterr().err
