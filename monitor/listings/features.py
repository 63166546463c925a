"""What the default backend sees in a product photo.

A photo is first split into product and background (catalogue shots sit on a plain
background, so the border colour is the background); everything after looks only at the
product: colour-family shares and an HSV histogram for colour, and for shape a HOG grid,
downsampled grey pixels and the silhouette mask of the cropped product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.fft import dctn

from monitor.listings.vocab import COLOUR_FAMILIES, COLOUR_REFS

# Bump when the vectors change: models trained on older vectors must not be fed new ones.
FEATURE_VERSION = "f1"
WORK_SIDE = 96  # analysis resolution; catalogue thumbnails are 60x80
SHAPE_SIDE = 32
HOG_CELLS = 4
HOG_BINS = 9
PIX_SIDE = 12
HSV_BINS = (12, 3, 3)


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255, ... x 3) to CIE Lab (D65): distances there track what people call 'a different colour'."""
    c = rgb.astype(np.float32) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float32
    )
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


_REF_LAB = _srgb_to_lab(np.array([COLOUR_REFS[f] for f in COLOUR_FAMILIES], dtype=np.float32))


@dataclass
class Prepared:
    """A photo reduced to what the features need."""

    rgb: np.ndarray  # H x W x 3 uint8 at WORK_SIDE
    lab: np.ndarray  # H x W x 3 float32
    mask: np.ndarray  # H x W bool, True = product


def prepare(img: Image.Image) -> Prepared:
    img = img.convert("RGB")
    if max(img.size) != WORK_SIDE:
        scale = WORK_SIDE / max(img.size)
        size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
        img = img.resize(size, Image.Resampling.BILINEAR)
    rgb = np.asarray(img, dtype=np.uint8)
    lab = _srgb_to_lab(rgb)
    return Prepared(rgb=rgb, lab=lab, mask=_product_mask(lab))


def _product_mask(lab: np.ndarray) -> np.ndarray:
    edges = (lab[:2], lab[-2:], lab[:, :2], lab[:, -2:])
    border = np.concatenate([e.reshape(-1, 3) for e in edges])
    bg = np.median(border, axis=0)
    spread = np.median(np.linalg.norm(border - bg, axis=1))
    if spread > 8:
        # Busy background (a buyer's photo on a bed or a table): no reliable cut-out,
        # so the whole frame counts as the product.
        return np.ones(lab.shape[:2], dtype=bool)
    dist = np.linalg.norm(lab - bg, axis=2)
    mask = dist > 10
    mask = ndimage.binary_opening(mask, iterations=1)
    mask = ndimage.binary_fill_holes(mask)
    if mask.mean() < 0.02:
        # A white product on a white background: take the faint difference instead.
        mask = ndimage.binary_fill_holes(dist > 3)
        if mask.mean() < 0.02:
            return np.ones(lab.shape[:2], dtype=bool)
    return mask


def colour_shares(prep: Prepared) -> np.ndarray:
    """Share of product pixels nearest each colour family (Lab distance), summing to 1."""
    lab = prep.lab[prep.mask]
    if len(lab) == 0:
        lab = prep.lab.reshape(-1, 3)
    if len(lab) > 3000:
        lab = lab[:: len(lab) // 3000 + 1]
    d = ((lab[:, None, :] - _REF_LAB[None, :, :]) ** 2).sum(axis=2)
    counts = np.bincount(d.argmin(axis=1), minlength=len(COLOUR_FAMILIES)).astype(np.float32)
    return counts / max(1.0, counts.sum())


def _hsv_hist(prep: Prepared) -> np.ndarray:
    hsv = np.asarray(Image.fromarray(prep.rgb).convert("HSV"), dtype=np.float32)[prep.mask]
    if len(hsv) == 0:
        return np.zeros(int(np.prod(HSV_BINS)), dtype=np.float32)
    hist, _ = np.histogramdd(hsv, bins=HSV_BINS, range=((0, 256), (0, 256), (0, 256)))
    return (hist.ravel() / len(hsv)).astype(np.float32)


def _lab_stats(prep: Prepared) -> np.ndarray:
    lab = prep.lab[prep.mask]
    if len(lab) == 0:
        return np.zeros(9, dtype=np.float32)
    # Median and quartiles resist the shadows and logos that drag a mean around.
    q = np.percentile(lab, [25, 50, 75], axis=0)
    return (q.ravel() / 100.0).astype(np.float32)


def _crop(prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Grey image and mask of the product's bounding box, padded square, at SHAPE_SIDE."""
    ys, xs = np.nonzero(prep.mask)
    if len(ys) == 0:
        ys, xs = np.array([0, prep.mask.shape[0] - 1]), np.array([0, prep.mask.shape[1] - 1])
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    grey = np.asarray(Image.fromarray(prep.rgb[y0:y1, x0:x1]).convert("L"), dtype=np.float32) / 255.0
    mask = prep.mask[y0:y1, x0:x1].astype(np.float32)
    h, w = grey.shape
    side = max(h, w)
    g = np.ones((side, side), dtype=np.float32)
    m = np.zeros((side, side), dtype=np.float32)
    oy, ox = (side - h) // 2, (side - w) // 2
    g[oy : oy + h, ox : ox + w] = grey
    m[oy : oy + h, ox : ox + w] = mask
    g = np.asarray(Image.fromarray(g).resize((SHAPE_SIDE, SHAPE_SIDE), Image.Resampling.BILINEAR))
    m = np.asarray(Image.fromarray(m).resize((SHAPE_SIDE, SHAPE_SIDE), Image.Resampling.BILINEAR))
    return g, m


def _hog(grey: np.ndarray) -> np.ndarray:
    """Histogram of oriented gradients: unsigned orientation, magnitude-weighted, per cell, L2 per cell."""
    gy, gx = np.gradient(grey)
    mag = np.hypot(gx, gy)
    ang = (np.degrees(np.arctan2(gy, gx)) % 180.0) / (180.0 / HOG_BINS)
    bins = np.minimum(ang.astype(int), HOG_BINS - 1)
    cell = grey.shape[0] // HOG_CELLS
    out = np.zeros((HOG_CELLS, HOG_CELLS, HOG_BINS), dtype=np.float32)
    for i in range(HOG_CELLS):
        for j in range(HOG_CELLS):
            sl = (slice(i * cell, (i + 1) * cell), slice(j * cell, (j + 1) * cell))
            out[i, j] = np.bincount(bins[sl].ravel(), weights=mag[sl].ravel(), minlength=HOG_BINS)
    norm = np.linalg.norm(out, axis=2, keepdims=True) + 1e-6
    return (out / norm).ravel()


def _small(a: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(a.astype(np.float32)).resize((PIX_SIDE, PIX_SIDE), Image.Resampling.BOX)).ravel()


def colour_vector(prep: Prepared) -> np.ndarray:
    return np.concatenate([colour_shares(prep), _hsv_hist(prep), _lab_stats(prep)]).astype(np.float32)


def shape_vector(prep: Prepared) -> np.ndarray:
    grey, mask = _crop(prep)
    ys, xs = np.nonzero(prep.mask)
    h = (ys.max() - ys.min() + 1) if len(ys) else 1
    w = (xs.max() - xs.min() + 1) if len(xs) else 1
    stats = np.array([np.log(w / h), prep.mask.mean(), mask.mean()], dtype=np.float32)
    return np.concatenate([_hog(grey), _small(grey), _small(mask), stats]).astype(np.float32)


def image_vectors(prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """(category vector, colour vector): the category model sees shape plus colour, since
    some categories are mostly one colour; the colour model sees colour only."""
    colour = colour_vector(prep)
    return np.concatenate([shape_vector(prep), colour]), colour


def phash(img: Image.Image) -> np.ndarray:
    """64-bit DCT perceptual hash: low frequencies above/below their median."""
    grey = np.asarray(img.convert("L").resize((32, 32), Image.Resampling.BILINEAR), dtype=np.float32)
    low = dctn(grey, norm="ortho")[:8, :8].ravel()
    return low[1:] > np.median(low[1:])


def hash_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Share of differing hash bits: 0 = same picture, ~0.5 = unrelated pictures."""
    return float(np.count_nonzero(a != b)) / len(a)


def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - histogram intersection of two colour-family share vectors (0 = same colours, 1 = disjoint)."""
    return float(1.0 - np.minimum(a, b).sum())
