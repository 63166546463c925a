"""Words used in alert emails, in English and Chinese. Templates reach them as ``t.<key>``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "subject_serious_one": "{severity} case #{case_id}: {rating}-star review by {nick} on {item}",
        "subject_serious_many": "{count} serious bad reviews need handling ({shop})",
        "subject_reminder": "Reminder: {count} serious case(s) still open ({shop})",
        "subject_escalation": "{count} case(s) without progress for {hours} h: call the buyer ({shop})",
        "subject_attack": "Coordinated attack detected on {target} ({count} reviews)",
        "subject_attack_many": "{count} coordinated attacks detected ({shop})",
        "subject_image_mismatch": "{count} listing(s) whose images do not match ({shop})",
        "subject_crawl_health": "Crawl failing for {shop}: {failure}",
        "subject_crawl_health_many": "{count} failed crawls ({shop})",
        "subject_daily_digest": "Daily digest for {label}",
        "subject_weekly_report": "Weekly report for {label}",
        "intro_serious_case": "New serious bad reviews. Worst first; each has its case number and advice.",
        "intro_reminder": "These serious cases are still open. Worst first.",
        "intro_escalation": "No progress on these cases. The next step is a phone call to the buyer.",
        "intro_attack": "Coordinated attack: these reviews look organised rather than independent.",
        "intro_image_mismatch": "The pictures of these listings do not match what the listing says.",
        "intro_crawl_health": "The crawler could not collect reviews. Until this is fixed, new reviews go unseen.",
        "intro_report": "Summary of the period",
        "case": "Case",
        "severity": "Severity",
        "rating": "Rating",
        "buyer": "Buyer",
        "item": "Item",
        "review": "Review",
        "cause": "Cause",
        "flags": "Flags",
        "state": "State",
        "owner": "Owner",
        "unassigned": "unassigned",
        "contact": "Contact",
        "guidance": "What to do",
        "reasons": "Why",
        "opened": "Opened",
        "posted": "Review posted",
        "promised_by": "Promised by",
        "reason": "Escalated because",
        "escalated_promise": "the buyer promised to update the review by {when}",
        "escalated_stalled": "no progress for {hours} h since {when}",
        "next_step_phone": "Next step: phone the buyer.",
        "next_step_platform": "The buyer was already phoned: ask the platform to intervene.",
        "next_step_appeal": "Next step: appeal to the platform with the evidence; never negotiate money with the buyer.",
        "next_step_appeal_overdue": "The platform appeal is past its time limit: a supervisor chases the platform.",
        "escalated_appeal": "the platform appeal has had no step for {hours} h since {when}",
        "possibly_removed": "Possibly removed (a complete crawl did not show it; check the listing) since",
        "subject_escalation_steps": "{count} case(s) overdue: see each case's next step ({shop})",
        "intro_escalation_steps": "These cases are overdue. Each one says its next step.",
        "shop": "Shop",
        "listing": "Listing",
        "score": "Score",
        "members": "Reviews in the attack",
        "n_reviews": "{n} reviews",
        "and_more": "and {n} more",
        "failure": "Failure",
        "error": "Error",
        "spider": "Spider",
        "run": "Run",
        "reviews_new": "New reviews",
        "bad_reviews_new": "New bad reviews",
        "cases_opened": "Cases opened",
        "cases_resolved": "Cases resolved",
        "open_cases": "Open cases",
        "by_cause": "Bad reviews by cause",
        "by_flag": "Flags raised",
        "open_by_age": "Open cases by age",
        "open_by_severity": "Open cases by severity",
        "response": "Response time (opened to first contact)",
        "contacted": "contacted",
        "median": "median",
        "p90": "90th percentile",
        "hours": "h",
        "uncontacted": "open cases never contacted after the escalation time",
        "rating_trend": "Rating trend",
        "avg_rating": "average rating",
        "previous": "previous period",
        "day": "Day",
        "none": "none",
        "footer": "Sent by shopmon. Review text and names are shown as written by buyers.",
        "open_on_board": "Open on the case board",
    },
    "zh": {
        "subject_serious_one": "【{severity}】差评工单 #{case_id}：{nick} 给 {item} 打了 {rating} 星",
        "subject_serious_many": "{count} 条严重差评待处理（{shop}）",
        "subject_reminder": "提醒：{count} 个严重工单仍未解决（{shop}）",
        "subject_escalation": "{count} 个工单 {hours} 小时无进展：请电话联系买家（{shop}）",
        "subject_attack": "检测到针对 {target} 的集中攻击（{count} 条评价）",
        "subject_attack_many": "检测到 {count} 起集中攻击（{shop}）",
        "subject_image_mismatch": "{count} 个商品图片与描述不符（{shop}）",
        "subject_crawl_health": "{shop} 抓取失败：{failure}",
        "subject_crawl_health_many": "{count} 次抓取失败（{shop}）",
        "subject_daily_digest": "{label} 每日摘要",
        "subject_weekly_report": "{label} 周报",
        "intro_serious_case": "新的严重差评，按严重程度排序，附工单号和处理建议。",
        "intro_reminder": "以下严重工单仍未解决，按严重程度排序。",
        "intro_escalation": "以下工单长时间无进展，下一步请电话联系买家。",
        "intro_attack": "集中攻击：这些评价看起来是有组织的，而非独立的买家评价。",
        "intro_image_mismatch": "以下商品的图片与商品描述不符。",
        "intro_crawl_health": "抓取程序未能收集评价，修复之前新评价将无法被发现。",
        "intro_report": "本期概况",
        "case": "工单",
        "severity": "严重程度",
        "rating": "评分",
        "buyer": "买家",
        "item": "商品",
        "review": "评价",
        "cause": "原因",
        "flags": "标记",
        "state": "状态",
        "owner": "负责人",
        "unassigned": "未分配",
        "contact": "联系方式",
        "guidance": "处理建议",
        "reasons": "依据",
        "opened": "创建时间",
        "posted": "评价时间",
        "promised_by": "承诺修改日期",
        "reason": "升级原因",
        "escalated_promise": "买家承诺在 {when} 前修改评价，已逾期",
        "escalated_stalled": "自 {when} 起 {hours} 小时无进展",
        "next_step_phone": "下一步：电话联系买家。",
        "next_step_platform": "已电话联系过买家：请申请平台介入。",
        "next_step_appeal": "下一步：携证据向平台申诉；不要与买家谈钱或补偿。",
        "next_step_appeal_overdue": "平台申诉已超过处理时限：请主管催促平台处理。",
        "escalated_appeal": "平台申诉自 {when} 起 {hours} 小时无进展",
        "possibly_removed": "评价可能已删除（完整抓取未见此评价，请核实商品页），起始于",
        "subject_escalation_steps": "{count} 个工单已逾期：请按各工单的下一步处理（{shop}）",
        "intro_escalation_steps": "以下工单已逾期，请按各工单注明的下一步处理。",
        "shop": "店铺",
        "listing": "商品",
        "score": "分数",
        "members": "攻击涉及的评价",
        "n_reviews": "{n} 条评价",
        "and_more": "另有 {n} 条",
        "failure": "失败类型",
        "error": "错误",
        "spider": "爬虫",
        "run": "抓取批次",
        "reviews_new": "新增评价",
        "bad_reviews_new": "新增差评",
        "cases_opened": "新建工单",
        "cases_resolved": "已解决工单",
        "open_cases": "未结工单",
        "by_cause": "差评原因分布",
        "by_flag": "检测标记",
        "open_by_age": "未结工单账龄",
        "open_by_severity": "未结工单严重程度",
        "response": "响应时间（从建单到首次联系）",
        "contacted": "已联系",
        "median": "中位数",
        "p90": "90 分位",
        "hours": "小时",
        "uncontacted": "超过升级时限仍未联系的工单",
        "rating_trend": "评分趋势",
        "avg_rating": "平均评分",
        "previous": "上一周期",
        "day": "日期",
        "none": "无",
        "footer": "由 shopmon 发送。评价内容和昵称按买家原文显示。",
        "open_on_board": "在工单台打开",
    },
}

SEVERITY_NAMES = {
    "en": {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"},
    "zh": {"low": "低", "medium": "中", "high": "高", "critical": "紧急"},
}

assert set(STRINGS["en"]) == set(STRINGS["zh"]), "every string needs both languages"

# Values stored in English (causes, states, contact channels, flag kinds) as shown to people.
LABELS = {
    "en": {
        "quality": "quality", "not_as_pictured": "not as pictured", "missing_item": "missing item",
        "late_delivery": "late delivery", "transport_damage": "damaged in transport",
        "service_attitude": "service attitude", "other": "other", "unclassified": "unclassified",
        "open": "open", "contacted": "contacted", "promised": "promised to update",
        "awaiting_compensation": "awaiting compensation", "modified": "modified/removed", "refused": "refused",
        "platform_appeal": "platform appeal", "closed": "closed",
        "none": "not yet", "wangwang": "Wangwang", "messaged": "Wangwang", "sms": "SMS", "phoned": "phone",
        "malicious": "malicious", "deceptive": "deceptive", "professional": "professional reviewer",
        "attack": "attack", "cause": "cause", "image_mismatch": "image mismatch", "watchlist": "watchlist",
    },
    "zh": {
        "quality": "质量问题", "not_as_pictured": "与描述不符", "missing_item": "少件漏发",
        "late_delivery": "物流延迟", "transport_damage": "运输破损",
        "service_attitude": "服务态度", "other": "其他", "unclassified": "未分类",
        "open": "待处理", "contacted": "已联系", "promised": "已承诺修改",
        "awaiting_compensation": "等待补偿", "modified": "已修改/删除", "refused": "拒绝修改",
        "platform_appeal": "平台申诉中", "closed": "已关闭",
        "none": "未联系", "wangwang": "旺旺", "messaged": "旺旺", "sms": "短信", "phoned": "电话",
        "malicious": "恶意差评", "deceptive": "虚假评价", "professional": "职业差评师",
        "attack": "集中攻击", "cause": "原因", "image_mismatch": "图片不符", "watchlist": "关注名单",
    },
}
assert set(LABELS["en"]) == set(LABELS["zh"])

# Reputation: the tests' sentences, their verdicts and the grade --------------------------------
REPUTATION = {
    "en": {
        "title": "Reputation",
        "grade": "Grade",
        "rating": "Rating (all reviews)",
        "adjusted_rating": "Adjusted rating",
        "removed": "{n} of {total} reviews left out",
        "pass": "pass", "warn": "warn", "fail": "fail",
        "flagged_share": "{n} of {total} reviews ({pct}) judged fabricated, malicious or part of an attack",
        "burst_days": "{n} reviews ({pct}) posted on {days} burst day(s)",
        "near_duplicates": "{n} reviews ({pct}) repeat another account's text almost word for word",
        "one_time_reviewers": "{n} reviews ({pct}) from accounts with no other review; they rate {gap:+.2f} stars vs the rest",
        "one_time_reviewers_alone": "{n} reviews ({pct}) from accounts with no other review (too few others to compare ratings)",
        "rating_gap": "left-out reviews average {flagged_avg} stars, the rest {kept_avg}",
        "rating_gap_few": "too few left-out reviews to compare ratings",
        "professional_reviewers": "{n} reviews ({pct}) by accounts flagged as professional bad-reviewers",
        "history": "History",
        "no_data": "no shops stored yet: run `shopmon crawl` first",
    },
    "zh": {
        "title": "店铺信誉",
        "grade": "等级",
        "rating": "评分（全部评价）",
        "adjusted_rating": "调整后评分",
        "removed": "{total} 条评价中剔除 {n} 条",
        "pass": "通过", "warn": "注意", "fail": "未通过",
        "flagged_share": "{total} 条评价中 {n} 条（{pct}）被判定为虚假、恶意或集中攻击",
        "burst_days": "{days} 个异常集中日共发布 {n} 条评价（{pct}）",
        "near_duplicates": "{n} 条评价（{pct}）与其他账号的评价文字几乎相同",
        "one_time_reviewers": "{n} 条评价（{pct}）来自没有其他评价的账号；其评分比其他人 {gap:+.2f} 星",
        "one_time_reviewers_alone": "{n} 条评价（{pct}）来自没有其他评价的账号（其他账号太少，无法比较评分）",
        "rating_gap": "被剔除评价平均 {flagged_avg} 星，其余评价平均 {kept_avg} 星",
        "rating_gap_few": "被剔除的评价太少，无法比较评分",
        "professional_reviewers": "{n} 条评价（{pct}）来自被标记为职业差评师的账号",
        "history": "历史记录",
        "no_data": "尚无店铺数据：请先运行 `shopmon crawl` 抓取",
    },
}
assert set(REPUTATION["en"]) == set(REPUTATION["zh"])


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


# The weekly report and digest -------------------------------------------------------------------
REPORT = {
    "en": {
        "period_rule": "Review figures count reviews by when the buyer posted them; case figures count what "
                       "happened to cases in the period, each case once.",
        "adjusted": "adjusted (without flagged reviews)",
        "outcomes": "Outcomes (cases whose state changed, each once)",
        "staff": "Staff: workload and response",
        "staff_name": "Staff", "staff_cases": "Cases worked", "staff_contacts": "Contacts",
        "staff_resolved": "Resolved", "staff_response": "Median response", "staff_open": "Open cases owned",
        "reputation": "Reputation (latest crawl)", "left_out": "left out",
        "worst_listings": "Worst listings", "bad_reviews": "Bad reviews", "grade": "Grade",
        "attacks": "Attack incidents", "from_to": "When",
        "crawl": "Crawl health",
        "crawl_line": "{runs} crawls: {ok} ok, {failed} failed; {reviews} new reviews collected",
        "compensation": "Compensation paid",
        "compensation_line": "{payments} payment(s), {amount} {currency}",
        "chart_bad": "Bad reviews per day by cause",
        "chart_rating": "Average rating per day",
        "chart_response": "Response time (opened to first contact)",
        "axis_bad": "bad reviews", "axis_rating": "stars", "axis_cases": "cases", "axis_hours": "hours",
        "all_reviews": "all reviews",
        "cjk_missing": "Charts show Chinese only with a CJK font: install one with `apt-get install fonts-noto-cjk`.",
        "outcome_modified": "review improved", "outcome_deleted": "review deleted",
        "outcome_promised": "promised to update", "outcome_awaiting_compensation": "awaiting compensation",
        "outcome_refused": "refused", "outcome_platform_appeal": "platform appeal",
        "outcome_closed": "closed without a change",
        "age_<1d": "under 1 day", "age_1-2d": "1-2 days", "age_2-7d": "2-7 days", "age_>7d": "over 7 days",
        "minutes": "{n} min", "less_minute": "<1 min", "hours_only": "{n} h", "days_hours": "{d} d {h} h",
    },
    "zh": {
        "period_rule": "评价类数据按买家发布评价的时间统计；工单类数据按本期内工单发生的处理事件统计，每个工单只计一次。",
        "adjusted": "调整后（剔除被标记评价）",
        "outcomes": "处理结果（本期状态有变化的工单，每单计一次）",
        "staff": "客服工作量与响应",
        "staff_name": "客服", "staff_cases": "处理工单", "staff_contacts": "联系次数",
        "staff_resolved": "已解决", "staff_response": "响应时间中位数", "staff_open": "名下未结工单",
        "reputation": "店铺信誉（最近一次抓取）", "left_out": "剔除",
        "worst_listings": "问题最多的商品", "bad_reviews": "差评数", "grade": "等级",
        "attacks": "集中攻击事件", "from_to": "时间",
        "crawl": "抓取状况",
        "crawl_line": "抓取 {runs} 次：成功 {ok} 次，失败 {failed} 次；新收集评价 {reviews} 条",
        "compensation": "补偿支出",
        "compensation_line": "{payments} 笔，共 {amount} {currency}",
        "chart_bad": "每日差评（按原因）",
        "chart_rating": "每日平均评分",
        "chart_response": "响应时间（从建单到首次联系）",
        "axis_bad": "差评数", "axis_rating": "星级", "axis_cases": "工单数", "axis_hours": "小时",
        "all_reviews": "全部评价",
        "cjk_missing": "图表需要中文字体才能显示中文：请执行 apt-get install fonts-noto-cjk 安装。",
        "outcome_modified": "买家已修改评价", "outcome_deleted": "买家已删除评价",
        "outcome_promised": "已承诺修改", "outcome_awaiting_compensation": "等待补偿",
        "outcome_refused": "拒绝修改", "outcome_platform_appeal": "平台申诉中",
        "outcome_closed": "直接关闭（评价未变）",
        "age_<1d": "不到 1 天", "age_1-2d": "1-2 天", "age_2-7d": "2-7 天", "age_>7d": "超过 7 天",
        "minutes": "{n} 分钟", "less_minute": "不到 1 分钟", "hours_only": "{n} 小时", "days_hours": "{d} 天 {h} 小时",
    },
}
assert set(REPORT["en"]) == set(REPORT["zh"])
# Crawl failure kinds and image-mismatch labels, as the emails and the report name them.
for _lang, _names in {
    "en": {"category": "category differs", "colour": "colour differs", "buyer_photos": "buyer photos differ",
           "buyer_words": "buyers say not as pictured",
           "blocked": "blocked by the site", "captcha": "captcha", "login": "login wall",
           "zero_items": "no items found", "timeout": "timed out", "error": "crawler error", "http": "HTTP error",
           "model": "model cannot be used", "JobTimeout": "ran too long", "JobInterrupted": "interrupted",
           "ChildFailed": "worker process failed", "job_error": "job failed",
           "interrupted": "interrupted (the crawler stopped)", "storage": "could not store (disk or database)"},
    "zh": {"category": "品类不符", "colour": "颜色不符", "buyer_photos": "买家秀不符", "buyer_words": "买家反映与图不符",
           "blocked": "被网站屏蔽", "captcha": "需要验证码", "login": "需要登录",
           "zero_items": "未抓到商品", "timeout": "超时", "error": "抓取程序出错", "http": "HTTP 错误",
           "model": "模型不可用", "JobTimeout": "运行超时", "JobInterrupted": "被中断",
           "ChildFailed": "子进程失败", "job_error": "任务执行失败",
           "interrupted": "抓取被中断", "storage": "无法保存（磁盘或数据库）"},
}.items():
    LABELS[_lang].update(_names)


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
UNTRANSLATED_REASON = {"zh": "其他检测依据（详见系统记录）"}


def translate_reason(text: str, language: str) -> str:
    """A detector's reason in ``language``; a reason with no translation yet says so instead of showing English."""
    if language == "en":
        return text
    for pattern, render in _REASONS_ZH:
        m = pattern.fullmatch(text.strip())
        if m:
            return render(m)
    return UNTRANSLATED_REASON[language]


# The after-sales record: export columns (in the handbook's order) and progress wording ----------
RECORD = {
    "en": {
        "col_posted": "Review time", "col_buyer": "Buyer (Wangwang ID)", "col_phone": "Phone", "col_item": "Item",
        "col_review": "Review", "col_severity": "Severity", "col_contacts": "Contacts made", "col_progress": "Progress",
        "col_case": "Case", "col_rating": "Rating", "col_buyer_id": "Buyer platform id", "col_order": "Order no.",
        "col_cause": "Cause", "col_flags": "Flags", "col_owner": "Owner", "col_paid": "Paid", "col_opened": "Case opened",
        "col_attack": "Attack case",
        "promised_by": "promised to update by {date}", "agreed": "compensation agreed: {amount}",
    },
    "zh": {
        "col_posted": "评价时间", "col_buyer": "买家旺旺ID", "col_phone": "电话", "col_item": "商品",
        "col_review": "评价内容", "col_severity": "严重程度", "col_contacts": "处理情况", "col_progress": "处理进度",
        "col_case": "工单", "col_rating": "评分", "col_buyer_id": "买家平台ID", "col_order": "订单号",
        "col_cause": "原因", "col_flags": "标记", "col_owner": "负责人", "col_paid": "已付金额", "col_opened": "建单时间",
        "col_attack": "所属攻击工单",
        "promised_by": "承诺 {date} 前修改", "agreed": "约定补偿：{amount}",
    },
}
assert set(RECORD["en"]) == set(RECORD["zh"])
