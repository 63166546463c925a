"""Words used in alert emails, reports, the export and the board, in English and Chinese.

The message catalogues are data (``alerts/catalogues/messages.json``, read through importlib.resources so an
installed wheel finds them); this module loads them, checks that every section has the same keys in
both languages, and holds the wording that is code: reputation sentences, failure names, durations
and the Chinese forms of the detectors' English reasons. Templates reach ``STRINGS`` as ``t.<key>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

from alerts import catalogues
from monitor.errors import ConfigError

LANGUAGES = ("en", "zh")


def _load() -> dict[str, dict[str, dict[str, str]]]:
    data = json.loads(resources.files(catalogues).joinpath("messages.json").read_text(encoding="utf-8"))
    sections = {name: value for name, value in data.items() if not name.startswith("_")}
    for name, by_language in sections.items():
        if name == "untranslated_reason":  # English shows the reason itself
            continue
        keys = {lang: set(by_language.get(lang, {})) for lang in LANGUAGES}
        if keys["en"] != keys["zh"]:
            missing = sorted(keys["en"] ^ keys["zh"])
            raise ConfigError(
                f"alerts/catalogues/messages.json: section {name!r} lacks a language for {', '.join(missing)}"
            )
    return sections


_CATALOGUE = _load()
STRINGS: dict[str, dict[str, str]] = _CATALOGUE["strings"]
SEVERITY_NAMES = _CATALOGUE["severity_names"]
# Values stored in English (causes, states, contact channels, flag kinds, failure kinds) as shown to people.
LABELS = _CATALOGUE["labels"]
REPUTATION = _CATALOGUE["reputation"]
REPORT = _CATALOGUE["report"]
# The after-sales record: export columns (in the handbook's order) and progress wording.
RECORD = _CATALOGUE["record"]
UNTRANSLATED_REASON = _CATALOGUE["untranslated_reason"]


def check_line(check: dict[str, Any], language: str) -> str:
    """One reputation test as a sentence, from its stored key, figure and params."""
    words = REPUTATION[language]
    params = {**check.get("params", {}), "pct": f"{check.get('value', 0):.0%}"}
    key = check["key"]
    if key == "rating_gap" and params.get("few"):
        key = "rating_gap_few"
    elif key == "one_time_reviewers" and params.get("gap") is None:
        key = "one_time_reviewers_alone"
    elif key == "flagged_share" and "total" not in params:
        params["total"] = "?"
    for name in ("flagged_avg", "kept_avg"):
        if name in params and params[name] is None:
            params[name] = "-"
    return words[key].format(**params)


def failure_name(kind: str | None, language: str) -> str:
    """A crawl or job failure kind as staff read it; a job's exception name becomes "job failed"."""
    names = LABELS[language]
    return names.get(kind or "error") or names["job_error"]


def human_duration(minutes: float | None, language: str) -> str:
    """A duration as people say it: "25 min", "80 min", "3.5 h", "2 d 4 h" (never 0.15000000000000002 h)."""
    if minutes is None:
        return "-"
    words = REPORT[language]
    if minutes < 1:
        return words["less_minute"]
    if minutes < 119.5:  # "80 min" reads better than "1.3 h"
        return words["minutes"].format(n=round(minutes))
    if minutes < 48 * 60:
        return words["hours_only"].format(n=f"{round(minutes / 60, 1):g}")
    days, rest = divmod(round(minutes / 60), 24)
    return words["days_hours"].format(d=days, h=rest)


# Detection reasons, written in English by the detectors, as the staff's language says them -----
def _zh_span(span: str) -> str:
    return re.sub(r"(\d+) h\b", r"\1 小时", re.sub(r"(\d+) days?\b", r"\1 天", span))


def _zh_words(text: str) -> str:
    """Colour/category families ("red/dress", "red 70%, white 20%") in their plain Chinese words."""
    # Imported on first use: the listings package loads the image models, which every email
    # module would otherwise pay for at start-up (the scheduler's children start often).
    from monitor.listings.vocab import chinese_name

    return re.sub(r"[a-z][a-z-]*", lambda m: chinese_name(m.group(0)) or m.group(0), text)


_REASONS_ZH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"burst: (?P<k>\d+) bad reviews in (?P<w>\d+) h vs baseline (?P<rate>\S+)/h \(Poisson p=(?P<p>\S+)\); "
                r"(?P<k2>\d+) of (?P<n>\d+) reviews in the window were bad vs (?P<s0>\S+) usually"),
     lambda m: "差评突增：{w} 小时内 {k} 条差评，平时约 {rate} 条/小时（泊松 p={p}）；该时段 {n} 条评价中 {k2} 条为差评，"
               "平时差评占 {s0}".format(**m.groupdict())),
    (re.compile(r"(?P<n>\d+) accounts posted near-identical text \((?P<sim>[\d.]+) similar\) within (?P<span>.+?): (?P<who>.*)"),
     lambda m: f"{m['n']} 个账号在 {_zh_span(m['span'])} 内发布了几乎相同的文字（相似度 {m['sim']}）：{m['who']}"),
    (re.compile(r"(?P<n>\d+) accounts left bad reviews on the same (?P<l>\d+) listings within (?P<span>.+?): (?P<who>.*)"),
     lambda m: f"{m['n']} 个账号在 {_zh_span(m['span'])} 内对同样的 {m['l']} 个商品给出差评：{m['who']}"),
    (re.compile(r"new attack (?P<gap>\d+) days after the previous one on this target \(incident (?P<i>\d+)\)"),
     lambda m: f"距上一次攻击 {m['gap']} 天后的新一轮攻击（第 {m['i']} 次）"),
    (re.compile(r"listing says (?P<said>\S+), but the main image looks like (?P<seen>\S+) \(p=(?P<p1>[\d.]+) vs (?P<p2>[\d.]+)\)"),
     lambda m: f"商品描述为“{_zh_words(m['said'])}”，但主图看起来是“{_zh_words(m['seen'])}”"
               f"（概率 {m['p1']}，描述类别 {m['p2']}）"),
    (re.compile(r"listing says (?P<said>\S+), but the main image is (?P<seen>[a-z-]+)(?: \((?P<shares>.*) of the product\))?"),
     lambda m: f"商品描述颜色为“{_zh_words(m['said'])}”，但主图是“{_zh_words(m['seen'])}”"
               + (f"（商品颜色占比：{_zh_words(m['shares'])}）" if m["shares"] else "")),
    (re.compile(r"(?P<k>\d+) of (?P<n>\d+) buyer photos differ in colour from every listing image \(largest gap (?P<gap>\S+)\)"),
     lambda m: f"{m['n']} 张买家秀中有 {m['k']} 张与所有商品图颜色都不同（最大差异 {m['gap']}）"),
    (re.compile(r"buyers say it is not as pictured in (?P<k>\d+) of (?P<n>\d+) reviews \((?P<rate>\S+); shop baseline (?P<b>\S+)\)"),
     lambda m: f"{m['n']} 条评价中有 {m['k']} 条说与图片不符（{m['rate']}；全店平均 {m['b']}）"),
    (re.compile(r"listing has no images"), lambda m: "商品没有图片"),
    (re.compile(r"no listing image could be read, so the photos were not checked"), lambda m: "商品图片均无法读取，未能比对"),
    (re.compile(r"(?P<role>\w+) image (?P<url>\S+): the crawler could not download it: .*"),
     lambda m: f"图片 {m['url']} 无法下载"),
    (re.compile(r"(?P<role>listing image|buyer photo) (?P<n>\d+) unusable: .*"),
     lambda m: f"第 {m['n']} 张{'商品图' if m['role'] == 'listing image' else '买家秀'}无法使用"),
]


def translate_reason(text: str, language: str) -> str:
    """A detector's reason in ``language``; a reason with no translation yet says so instead of showing English."""
    if language == "en":
        return text
    for pattern, render in _REASONS_ZH:
        m = pattern.fullmatch(text.strip())
        if m:
            return render(m)
    return UNTRANSLATED_REASON[language]
