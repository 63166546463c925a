"""Opening listing and buyer photos without trusting them.

Every failure becomes an :class:`ImageProblem` with a sentence a shop owner can act on:
a missing file, a truncated download, a decompression bomb, an HTTP 404. Huge JPEGs are
decoded at reduced size with ``Image.draft`` so a 50-megapixel photo never sits in memory
whole; other formats are refused above a pixel cap instead of being decoded.
"""

from __future__ import annotations

import io
import ipaddress
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from monitor.image_store import ImageStore, ImageStoreError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ImageProblem:
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class LoadedImage:
    source: str
    image: Image.Image  # RGB, longest side <= the loader's max_side
    original_size: tuple[int, int]
    format: str | None


@dataclass(frozen=True)
class LoaderLimits:
    max_side: int = 256
    max_bytes: int = 20 * 1024 * 1024
    # JPEG decodes at 1/8 scale through draft(), so its cap is loose (Pillow itself refuses
    # anything over twice its MAX_IMAGE_PIXELS, ~179 MP, before we see it).
    max_jpeg_pixels: int = 170_000_000
    # Formats without reduced decoding are decoded whole: cap them near Pillow's own bomb limit.
    max_other_pixels: int = 64_000_000
    timeout: float = 10.0


class _NoForeignRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect may not leave the allowed hosts (an allowed host must not launder others)."""

    def __init__(self, allowed: frozenset[str] | None) -> None:
        self.allowed = allowed

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        host = urllib.parse.urlsplit(newurl).hostname or ""
        if self.allowed is not None and host not in self.allowed:
            raise urllib.error.HTTPError(newurl, code, f"redirect to host {host!r} not allowed", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class ImageLoader:
    """Load images from paths (relative to ``base_dir``) or http(s) URLs on allowed hosts.

    ``allowed_hosts=None`` allows every host; the default is loopback only, so tests and a
    fresh install never reach the internet.
    """

    def __init__(
        self,
        *,
        base_dir: Path | None = None,
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        limits: LoaderLimits | None = None,
        store: ImageStore | None = None,
    ) -> None:
        self.base_dir = base_dir
        self.allowed_hosts = allowed_hosts
        self.limits = limits or LoaderLimits()
        self.store = store  # sources it names (ImageStore.source) are read through it

    def load(self, source: str) -> LoadedImage | ImageProblem:
        source = str(source).strip()
        if not source:
            return ImageProblem("(empty)", "empty image reference")
        try:
            key = self.store.key_of(source) if self.store is not None else None
            if key is not None:
                return self._decode(source, io.BytesIO(self.store.get(key, self.limits.max_bytes)))  # type: ignore[union-attr]
            if source.lower().startswith(("http://", "https://")):
                data = self._fetch(source)
                if isinstance(data, ImageProblem):
                    return data
                return self._decode(source, io.BytesIO(data))
            if "://" in source:
                scheme = source.split("://", 1)[0]
                return ImageProblem(source, f"unsupported URL scheme {scheme!r} (only http and https)")
            path = Path(source)
            if not path.is_absolute() and self.base_dir is not None:
                path = self.base_dir / path
            if not path.is_file():
                return ImageProblem(source, f"image file not found: {path}")
            size = path.stat().st_size
            if size > self.limits.max_bytes:
                return ImageProblem(source, f"image file is {size} bytes, over the {self.limits.max_bytes}-byte limit")
            with path.open("rb") as fh:
                return self._decode(source, fh)
        except ImageStoreError as exc:
            return ImageProblem(source, str(exc))
        except OSError as exc:
            return ImageProblem(source, f"cannot read image: {exc.strerror or exc}")

    # ------------------------------------------------------------------------------------
    def _fetch(self, url: str) -> bytes | ImageProblem:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if self.allowed_hosts is not None and host not in self.allowed_hosts and not _is_loopback(host):
            return ImageProblem(
                url, f"host {host!r} is not in listings.fetch_hosts, so the image was not downloaded"
            )
        opener = urllib.request.build_opener(_NoForeignRedirect(self.allowed_hosts))
        request = urllib.request.Request(url, headers={"User-Agent": "shopmon-listings/0.1"})
        try:
            with opener.open(request, timeout=self.limits.timeout) as resp:
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
                    return ImageProblem(url, f"image is {declared} bytes, over the {self.limits.max_bytes}-byte limit")
                data = resp.read(self.limits.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            return ImageProblem(url, f"download failed: HTTP {exc.code} {exc.reason}".rstrip())
        except urllib.error.URLError as exc:
            return ImageProblem(url, f"download failed: {exc.reason}")
        except TimeoutError:
            return ImageProblem(url, f"download timed out after {self.limits.timeout:g} s")
        if len(data) > self.limits.max_bytes:
            return ImageProblem(url, f"image is over the {self.limits.max_bytes}-byte limit")
        return data

    def _decode(self, source: str, fh: io.BufferedIOBase) -> LoadedImage | ImageProblem:
        lim = self.limits
        try:
            with warnings.catch_warnings():
                # Our own caps below decide, with a better message than Pillow's warning.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img = Image.open(fh)
                original = img.size
                pixels = original[0] * original[1]
                is_jpeg = img.format == "JPEG"
                cap = lim.max_jpeg_pixels if is_jpeg else lim.max_other_pixels
                if pixels > cap:
                    return ImageProblem(
                        source,
                        f"image is {original[0]}x{original[1]} ({pixels / 1e6:.0f} MP), over the "
                        f"{cap / 1e6:.0f} MP limit for {img.format or 'this format'}; not decoded",
                    )
                if is_jpeg:
                    # Decode at 1/2..1/8 scale straight from the DCT: memory follows the
                    # reduced size, not the 50 MP original.
                    img.draft("RGB", (lim.max_side, lim.max_side))
                if getattr(img, "n_frames", 1) > 1:
                    img.seek(0)  # animated GIF/WebP: the first frame is the product shot
                img.load()
        except UnidentifiedImageError:
            return ImageProblem(source, "not an image (unrecognised format)")
        except Image.DecompressionBombError as exc:
            return ImageProblem(source, f"image rejected as a decompression bomb: {exc}")
        except OSError as exc:
            msg = str(exc)
            if any(w in msg.lower() for w in ("truncated", "broken data stream", "premature end")):
                return ImageProblem(source, "image file is truncated or corrupt (incomplete download?)")
            return ImageProblem(source, f"cannot decode image: {msg}")
        except (ValueError, SyntaxError, EOFError) as exc:
            return ImageProblem(source, f"cannot decode image: {exc}")
        fmt = img.format
        try:
            img = ImageOps.exif_transpose(img)
        except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the picture
            pass
        img = _flatten(img)
        if max(img.size) > lim.max_side:
            factor = max(1, max(img.size) // lim.max_side)
            if factor > 1:
                img = img.reduce(factor)
            img.thumbnail((lim.max_side, lim.max_side), Image.Resampling.BILINEAR)
        return LoadedImage(source=source, image=img, original_size=original, format=fmt)


def _flatten(img: Image.Image) -> Image.Image:
    """RGB on white: transparent product cut-outs (PNG/WebP/GIF) get a plain background."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
