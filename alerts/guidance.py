"""Platform guidance written into each case: what the after-sales team should do next."""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "zh"]

CAUSE_ACTIONS: dict[str, dict[str, str]] = {
    "quality": {
        "en": "Apologise and offer an exchange or refund; ask for a photo of the defect and pass it to QA.",
        "zh": "向买家致歉并提供换货或退款；请买家提供瑕疵照片并转给质检。",
    },
    "not_as_pictured": {
        "en": "Apologise, offer a return or exchange, and check the listing photos against the product shipped.",
        "zh": "向买家致歉，提供退换货，并核对商品主图与实际发货商品是否一致。",
    },
    "missing_item": {
        "en": "Check the packing record and re-ship the missing item at once; confirm the tracking number to the buyer.",
        "zh": "核对打包记录，立即补发缺件，并把物流单号告知买家。",
    },
    "late_delivery": {
        "en": "Chase the courier with the tracking number, tell the buyer the new delivery date, and offer a small goodwill gesture.",
        "zh": "凭物流单号催促快递，告知买家预计送达时间，并酌情给予小额补偿。",
    },
    "transport_damage": {
        "en": "Ask the buyer for photos of the damaged parcel and item, re-ship or refund, and file a claim with the courier.",
        "zh": "请买家提供外包装和商品破损照片，补发或退款，并向快递公司索赔。",
    },
    "service_attitude": {
        "en": "A supervisor apologises personally; review the chat log with the agent involved.",
        "zh": "由主管亲自向买家致歉，并与相关客服一起复盘聊天记录。",
    },
    "other": {
        "en": "Contact the buyer, find out what went wrong and offer a fair remedy.",
        "zh": "联系买家了解具体问题，并提供合理的解决方案。",
    },
}

EXTORTION = {
    "en": (
        "Possible extortion: keep the evidence (screenshot the review, note its timestamps, export any chat) "
        "and ask the platform to intervene through its malicious-review appeal. Never pay or refund in "
        "exchange for a review change."
    ),
    "zh": (
        "疑似恶意差评/敲诈：保留证据（截图评价、记录时间、导出聊天记录），通过平台的恶意评价申诉通道"
        "请求平台介入。切勿为修改评价而付款或退款。"
    ),
}
PROFESSIONAL = {
    "en": (
        "The reviewer matches professional bad-reviewer patterns: keep the evidence, report the account to the "
        "platform, and do not negotiate compensation for a review change."
    ),
    "zh": "该买家符合职业差评师特征：保留证据，向平台举报该账号，不要以补偿换取改评。",
}
ATTACK = {
    "en": (
        "Part of a coordinated attack on this shop or listing: collect all member reviews with their timestamps "
        "and file one appeal with the platform listing every review."
    ),
    "zh": "属于针对本店或本商品的集中攻击：汇总所有相关评价及时间，一次性向平台提交申诉并列出全部评价。",
}


# Which response a case calls for, in the handbook's precedence: an extortion attempt is never
# answered with money, an attack is appealed as one, a professional reviewer is reported; only
# a review with none of these is a genuine complaint about its cause.
ABUSE_PRECEDENCE = (("malicious", "extortion"), ("attack", "attack"), ("professional", "professional"))
ABUSE_KINDS = tuple(kind for _, kind in ABUSE_PRECEDENCE)
CASE_KINDS = (*ABUSE_KINDS, *CAUSE_ACTIONS)
_ABUSE_ADVICE = {"extortion": EXTORTION, "attack": ATTACK, "professional": PROFESSIONAL}


def case_kind(kinds: list[str], cause: str | None) -> str:
    """One kind per case: ``extortion``, ``attack``, ``professional``, or its cause (``other`` when unknown)."""
    for flag, kind in ABUSE_PRECEDENCE:
        if flag in kinds:
            return kind
    return cause if cause in CAUSE_ACTIONS else "other"


def guidance_for(kinds: list[str], cause: str | None, language: Language = "en") -> str:
    """One line of advice, for the case's one kind (``case_kind``): two lines could contradict each
    other ("file one appeal" beside "apologise and refund")."""
    kind = case_kind(kinds, cause)
    if kind in _ABUSE_ADVICE:
        return _ABUSE_ADVICE[kind][language]
    return CAUSE_ACTIONS[kind][language]
