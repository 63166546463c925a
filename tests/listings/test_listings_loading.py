"""Bad images give a clear reason, never a crash; huge JPEGs are decoded reduced."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageFile

from monitor.listings.loading import ImageLoader, ImageProblem, LoadedImage, LoaderLimits


def _reason(got: object) -> str:
    assert isinstance(got, ImageProblem), got
    return got.reason


def test_missing_file(tmp_path: Path) -> None:
    got = ImageLoader(base_dir=tmp_path).load("nope.jpg")
    assert "image file not found" in _reason(got)


def test_truncated_jpeg(tmp_path: Path) -> None:
    Image.new("RGB", (200, 200), (200, 30, 35)).save(tmp_path / "full.jpg", quality=95)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert "truncated" in _reason(ImageLoader(base_dir=tmp_path).load("cut.jpg"))


def test_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "page.jpg").write_text("<html>blocked</html>")
    assert "not an image" in _reason(ImageLoader(base_dir=tmp_path).load("page.jpg"))


def test_fifty_megapixel_jpeg_is_decoded_reduced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = Image.new("L", (10_000, 5_000), 90)  # 50 MP
    big.save(tmp_path / "big.jpg", quality=50)
    del big
    decoded_sizes = []
    real_load = ImageFile.ImageFile.load

    def spy(self):  # noqa: ANN001, ANN202
        decoded_sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    got = ImageLoader(base_dir=tmp_path).load("big.jpg")
    assert isinstance(got, LoadedImage)
    assert got.original_size == (10_000, 5_000)
    assert max(got.image.size) <= 256 and got.image.mode == "RGB"
    # The decoder worked at 1/8 scale: 1250 x 625, not 10000 x 5000.
    assert decoded_sizes and decoded_sizes[0][0] * decoded_sizes[0][1] <= 10_000 * 5_000 // 64


def test_decompression_bomb_png_is_refused_before_decoding(tmp_path: Path) -> None:
    Image.new("1", (12_000, 12_000)).save(tmp_path / "bomb.png")  # 144 MP, a few kB on disk
    reason = _reason(ImageLoader(base_dir=tmp_path).load("bomb.png"))
    assert "144 MP" in reason and "limit" in reason


def test_file_over_byte_cap(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    got = ImageLoader(base_dir=tmp_path, limits=LoaderLimits(max_bytes=10)).load("a.png")
    assert "byte limit" in _reason(got)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_transparent_images_are_flattened_on_white(tmp_path: Path, fmt: str) -> None:
    img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    img.paste((200, 30, 35, 255), (10, 10, 30, 30))
    path = tmp_path / f"cut.{fmt.lower()}"
    if fmt == "GIF":
        frames = [img, Image.new("RGBA", (40, 40), (40, 90, 205, 255))]
        frames[0].save(path, save_all=True, append_images=frames[1:], transparency=0, disposal=2)
    else:
        img.save(path, fmt, lossless=True) if fmt == "WEBP" else img.save(path, fmt)
    got = ImageLoader(base_dir=tmp_path).load(path.name)
    assert isinstance(got, LoadedImage), got
    assert got.image.mode == "RGB"
    corner = got.image.getpixel((1, 1))
    centre = got.image.getpixel((20, 20))
    assert min(corner) >= 240  # transparent -> white background
    assert centre[0] > 150 and centre[2] < 100  # the red product, first frame of the GIF


def test_url_404_and_ok(http_root: tuple[str, Path]) -> None:
    base, folder = http_root
    Image.new("RGB", (30, 30), (200, 30, 35)).save(folder / "ok.png")
    loader = ImageLoader()
    assert "HTTP 404" in _reason(loader.load(f"{base}/missing.jpg"))
    ok = loader.load(f"{base}/ok.png")
    assert isinstance(ok, LoadedImage) and ok.image.size == (30, 30)


def test_url_over_size_cap(http_root: tuple[str, Path]) -> None:
    base, folder = http_root
    Image.effect_noise((200, 200), 50).save(folder / "noise.png")
    got = ImageLoader(limits=LoaderLimits(max_bytes=1000)).load(f"{base}/noise.png")
    assert "byte limit" in _reason(got)


def test_hosts_outside_the_allow_list_are_not_fetched() -> None:
    got = ImageLoader().load("https://img.example.com/a.jpg")
    assert "not in listings.fetch_hosts" in _reason(got)
    assert "unsupported URL scheme" in _reason(ImageLoader().load("ftp://127.0.0.1/a.jpg"))


def test_connection_refused_is_a_reason() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert "download failed" in _reason(ImageLoader().load(f"http://127.0.0.1:{port}/a.jpg"))
