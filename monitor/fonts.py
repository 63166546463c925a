"""Fonts for charts: Chinese labels need a CJK-capable font, which matplotlib does not bring.

One place decides which font draws the charts (weekly report emails, training reports), so
every plot shows Chinese the same way and says the same thing when no such font is installed.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from matplotlib import font_manager

log = logging.getLogger(__name__)

CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Droid Sans Fallback", "SimHei", "Microsoft YaHei", "PingFang SC",
)
FALLBACK = "DejaVu Sans"
INSTALL_HINT = "install a CJK font for Chinese in charts: apt-get install fonts-noto-cjk"


def _installed_families() -> set[str]:
    return {f.name for f in font_manager.fontManager.ttflist}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed CJK-capable font, or None (logged once, with how to install one).

    matplotlib caches its font list on first use; a font installed later (apt-get install
    fonts-noto-cjk) is only in that cache after a rescan, so unknown CJK files are added here.
    """
    names = _installed_families()
    found = next((f for f in CJK_FAMILIES if f in names), None)
    if found is None:
        for path in font_manager.findSystemFonts():
            if any(token in path.lower() for token in ("cjk", "wqy", "droidsansfallback", "sourcehan")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = _installed_families()
        found = next((f for f in CJK_FAMILIES if f in names), None) or next((n for n in sorted(names) if "CJK" in n), None)
    if found is None:
        log.warning("no CJK font found: Chinese text in charts will not show; %s", INSTALL_HINT)
    return found


def font_families() -> list[str]:
    """``font.family`` for a chart: the CJK font first when there is one, DejaVu Sans for the rest."""
    font = cjk_font()
    return [font, FALLBACK] if font else [FALLBACK]
