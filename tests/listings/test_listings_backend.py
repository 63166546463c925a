"""A third-party image backend plugs in by entry point name and replaces the default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from monitor.config import load_settings
from monitor.errors import ConfigError
from monitor.listings import backend as backend_mod
from monitor.listings.backend import ImageBackend, ImageReading, load_backend
from monitor.listings.check import loader_for
from monitor.listings.scoring import ListingInput, ListingScorer


class AlwaysRedBags:
    """Stands in for a local CLIP-style model: every photo is a red handbag."""

    name = "fake-clip"
    version = "fake-clip-1"
    thresholds: dict[str, float] = {}

    def __init__(self, settings) -> None:  # noqa: ANN001
        self.settings = settings

    @property
    def categories(self) -> Sequence[str]:
        return ["Handbags", "Tshirts"]

    def read(self, images: Sequence[Image.Image]) -> list[ImageReading]:
        return [
            ImageReading(category_probs={"Handbags": 0.95, "Tshirts": 0.05}, colour_probs={"red": 0.9, "blue": 0.1})
            for _ in images
        ]


@dataclass
class FakeEntryPoint:
    name: str
    target: object

    def load(self) -> object:
        return self.target


def _install(monkeypatch: pytest.MonkeyPatch, **eps: object) -> None:
    fakes = [FakeEntryPoint(n, t) for n, t in eps.items()]
    monkeypatch.setattr(backend_mod, "entry_points", lambda group: fakes if group == "shopmon.image_backends" else [])


def test_entry_point_backend_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _install(monkeypatch, clip=AlwaysRedBags)
    settings = load_settings(data_dir=tmp_path / "data", listings={"backend": "clip"})
    backend = load_backend(settings)
    assert isinstance(backend, ImageBackend) and backend.version == "fake-clip-1"
    Image.new("RGB", (20, 20), (255, 255, 255)).save(tmp_path / "p.png")
    scorer = ListingScorer(backend, loader_for(settings, base_dir=tmp_path))
    res = scorer.score(ListingInput("x", "Blue T-shirt", {"category": "tshirts"}, images=["p.png"]))
    assert res.score is not None and res.score >= 0.5
    assert sorted(res.labels) == ["category", "colour"]
    ok = scorer.score(ListingInput("y", "Red handbag", images=["p.png"]))
    assert ok.score is not None and ok.score < 0.5
    # The default models were never trained: the plug-in replaced them.
    assert not (tmp_path / "data" / "models").exists()


def test_broken_plugins_are_config_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def explode(settings):  # noqa: ANN001, ANN202
        raise RuntimeError("weights file missing")

    _install(monkeypatch, boom=explode, notabackend=lambda settings: object())
    with pytest.raises(ConfigError, match="'boom' failed to start: weights file missing"):
        load_backend(load_settings(data_dir=tmp_path, listings={"backend": "boom"}))
    with pytest.raises(ConfigError, match="does not provide"):
        load_backend(load_settings(data_dir=tmp_path, listings={"backend": "notabackend"}))
    with pytest.raises(ConfigError, match=r"installed: boom, features, notabackend"):
        load_backend(load_settings(data_dir=tmp_path, listings={"backend": "nope"}))


class UnsureRed(AlwaysRedBags):
    """Likeliest colour red, but only 30% sure."""

    def read(self, images: Sequence[Image.Image]) -> list[ImageReading]:
        probs = {"red": 0.3, "pink": 0.25, "orange": 0.25, "blue": 0.2}
        return [ImageReading(category_probs={"Handbags": 1.0}, colour_probs=probs) for _ in images]


def test_an_unsure_photo_that_agrees_does_not_flag(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    Image.new("RGB", (20, 20)).save(tmp_path / "p.png")
    scorer = ListingScorer(UnsureRed(settings), loader_for(settings, base_dir=tmp_path))
    agrees = scorer.score(ListingInput("a", "Red handbag", images=["p.png"]))
    assert agrees.score is not None and agrees.score < 0.5 and agrees.reasons == []
    disagrees = scorer.score(ListingInput("b", "Blue handbag", images=["p.png"]))
    assert disagrees.score is not None and disagrees.score >= 0.5
    assert disagrees.reasons == ["listing says blue, but the main image is red"]
