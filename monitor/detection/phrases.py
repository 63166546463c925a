"""Extortion and threat cue phrases (Chinese and English), used to explain malicious scores.

The model decides; these phrases are what a person checks. Each cue is a regular expression with
a short readable name, so a reason reads "demands money to remove the review: '给我100元...删'".
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    name: str
    pattern: re.Pattern[str]


def _cue(name: str, *patterns: str) -> Cue:
    return Cue(name, re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE))


_MONEY_ZH = r"(?:\d+\s*(?:元|块|块钱)|红包|返现|补偿|赔偿|赔我|打款|转账|转我|打钱|封口费|免单|赠品)"
_MONEY_EN = r"(?:\$\s?\d+|\d+\s?(?:dollars|bucks|usd)|gift\s?card|compensat\w*|pay\s+(?:me|us|up)|paypal|venmo|refund\w*|free\s+(?:one|replacement|item)|discount\s+code|bonus)"

CUES: tuple[Cue, ...] = (
    _cue(
        "demands payment or goods to change or remove the review",
        rf"{_MONEY_ZH}[^。！!？?]{{0,20}}(?:删|改|好评|五星|追评)",
        rf"(?:删|改)(?:差评|评价|评论)?[^。！!？?]{{0,12}}{_MONEY_ZH}",
        rf"{_MONEY_EN}[^.!?]{{0,60}}(?:delete|remove|change|update|take\s+down)\w*[^.!?]{{0,30}}(?:review|rating|stars?)",
        rf"(?:delete|remove|change|update|take\s+down)\w*[^.!?]{{0,30}}(?:review|rating)[^.!?]{{0,40}}{_MONEY_EN}",
        r"(?:review|rating)\w*\s+(?:comes?|goes?)\s+down[^.!?]{0,40}(?:money|pay|paid|\$)",
        r"(?:change|update)\w*\s+(?:this|it|my\s+\w+)?\s*to\s+(?:5|five)\s+stars?",
        r"\bpay\s+(?:me|us)\b[^.!?]{0,40}\b(?:or|otherwise|unless)\b",
    ),
    _cue(
        "threatens more bad reviews",
        r"(?:一直|继续|天天|每天|全部|都来|一起来|刷)[^。！!？?]{0,8}(?:差评|追评)",
        r"(?:每个|所有)[^。！!？?]{0,8}(?:号|账号|链接)[^。！!？?]{0,10}差评",
        r"(?:more|keep\s+(?:leaving|posting)|every\s+(?:listing|product))[^.!?]{0,30}(?:bad|negative|one[- ]star|1[- ]star)\s+reviews?",
        r"review[- ]bomb",
        r"(?:leave|post|write)\s+(?:more\s+)?(?:bad|negative|one[- ]star|1[- ]star)\s+reviews?\s+(?:on|under|for)\s+(?:all|every|each)",
        r"(?:all|each)\s+(?:five|\d+|of\s+(?:them|us))?\s*(?:accounts?\s+)?leave\s+(?:one|1)[- ]star",
        r"(?:one|1)[- ]star\s+reviews?\s+on\s+every",
    ),
    _cue(
        "threatens complaints or public exposure",
        r"(?:我就|就去|就要|还要|我要|要去|会去|再去|天天|一直)[^。！!？?，,]{0,6}(?:投诉|曝光|举报|12315)",
        r"(?:发到|发在|发上|曝光到)[^。！!？?]{0,4}(?:微博|抖音|小红书|网上|媒体)",
        r"(?:联系|找)媒体",
        r"(?:report\s+(?:you|your\s+\w+)|bbb|ftc|chargeback|call\s+the\s+news|go(?:es)?\s+viral|post\s+this\s+(?:on|everywhere))",
    ),
    _cue(
        "ultimatum",
        r"(?:不然|否则|要么|不给|不赔|不退|不转|最后通牒|看着办|等着)",
        r"\b(?:or\s+(?:else|i|we)|otherwise|unless|last\s+warning|or\s+more)\b",
    ),
)

#: A threat needs a demand or an escalation; an ultimatum word alone ("不然" in a normal complaint) is not one.
STRONG = {CUES[0].name, CUES[1].name, CUES[2].name}


def match_cues(text: str, *, limit: int = 60) -> list[tuple[str, str]]:
    """``(cue name, matched excerpt)`` for each cue that fires, first match only, excerpt trimmed."""
    found = []
    for cue in CUES:
        m = cue.pattern.search(text or "")
        if m:
            excerpt = m.group(0).strip()
            found.append((cue.name, excerpt if len(excerpt) <= limit else excerpt[: limit - 1] + "…"))
    return found


def cue_reasons(text: str) -> list[str]:
    """Readable reasons, only when a strong cue fires (ultimatum words are context, not evidence)."""
    matches = match_cues(text)
    if not any(name in STRONG for name, _ in matches):
        return []
    return [f"{name}: “{excerpt}”" for name, excerpt in matches]
