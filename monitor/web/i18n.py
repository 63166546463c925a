"""The board's words in English and Chinese, beside the alert emails' table (alerts/i18n.py),
which supplies everything the two share (field names, states, causes, flag kinds)."""

from __future__ import annotations

from alerts.i18n import LABELS, STRINGS

WEB: dict[str, dict[str, str]] = {
    "en": {
        "app": "Case board", "sign_in": "Sign in", "sign_out": "Sign out", "name": "Name", "password": "Password",
        "bad_login": "Wrong name or password, or the account is disabled.",
        "too_many": "Too many failed sign-ins. Wait a few minutes and try again.",
        "board": "Cases", "my_cases": "My cases", "attacks": "Attacks", "listings": "Listings", "alerts": "Alerts",
        "labels": "Label queue", "models": "Models", "supervisor": "Supervisor", "switch_language": "中文",
        "filter": "Filter", "clear": "Clear", "any": "any", "overdue": "No progress for 48 h", "attack": "Attack",
        "posted": "Posted", "progress": "Progress", "age": "Age", "days": "d", "hours_short": "h",
        "export_csv": "Export CSV", "export_xlsx": "Export Excel", "next_page": "Next page", "first_page": "First page",
        "n_cases": "{n} cases", "no_cases": "No cases match.", "case_title": "Case #{id}",
        "review_photos": "Review photos", "revisions": "Earlier versions of the review", "history": "History",
        "flags_reasons": "Flags and why", "contact_log": "Record a contact", "channel": "Channel",
        "outcome": "Outcome", "no_change": "no change", "promise_date": "Promised by (date)", "note": "Note",
        "save": "Save", "move_to": "Move to", "assign": "Assign", "assign_to": "Assign to", "me": "me",
        "saved": "Saved.", "refused": "Refused", "members": "Members", "shared_text": "Shared text",
        "timeline": "Timeline", "bulk": "For all members", "bulk_assign": "Assign all",
        "bulk_appeal": "Record platform appeal", "bulk_close": "Close all", "bulk_done": "{n} cases updated",
        "bulk_skipped": "skipped", "listing_images": "Listing images", "buyer_photos": "Buyers' photos",
        "queued": "Queued and sent alerts", "attempts": "Attempts", "status": "Status", "kind": "Kind",
        "created": "Created", "sent": "Sent", "silences": "Silences", "new_silence": "New silence",
        "until": "Until (date)", "platform_id": "Platform id", "listing_platform_id": "Listing (platform id)",
        "reviewer_platform_id": "Reviewer (platform id or nick)", "shop_id": "Shop (config id)",
        "expire": "End now", "active": "active", "ended": "ended", "by": "By",
        "label_true": "Right (y)", "label_false": "Wrong (n)", "fix_cause": "Cause is",
        "nothing_to_label": "Nothing to label.", "version": "Version", "live": "live", "metrics": "Metrics",
        "report": "Report", "promote": "Promote", "rollback": "Roll back", "force": "even if worse",
        "gate": "Comparison with the live version", "weekly_report": "This week", "workload": "Workload per person",
        "open_n": "Open", "overdue_n": "Overdue", "median_response": "Median hours to first contact",
        "crawl_health": "Crawls", "scheduler": "Scheduler jobs", "last_run": "Last run", "failures": "Failures (7 d)",
        "job_failures_note": "Failures: runs that failed, timed out or were interrupted. Queued, running, "
                             "skipped (shop crawled elsewhere) and missed (too late to run) runs are not counted.",
        "forbidden": "You do not have access to this page.", "not_found": "Not found.",
        "text": "Text", "score": "Score", "target": "About", "task": "Task", "shop": "Shop",
    },
    "zh": {
        "app": "差评工单台", "sign_in": "登录", "sign_out": "退出", "name": "用户名", "password": "密码",
        "bad_login": "用户名或密码错误，或账号已停用。",
        "too_many": "登录失败次数过多，请几分钟后再试。",
        "board": "工单", "my_cases": "我的工单", "attacks": "集中攻击", "listings": "商品", "alerts": "提醒邮件",
        "labels": "标注队列", "models": "模型", "supervisor": "主管", "switch_language": "English",
        "filter": "筛选", "clear": "清除", "any": "全部", "overdue": "48 小时无进展", "attack": "攻击",
        "posted": "评价时间", "progress": "进度", "age": "时长", "days": "天", "hours_short": "小时",
        "export_csv": "导出 CSV", "export_xlsx": "导出 Excel", "next_page": "下一页", "first_page": "第一页",
        "n_cases": "共 {n} 个工单", "no_cases": "没有符合条件的工单。", "case_title": "工单 #{id}",
        "review_photos": "买家晒图", "revisions": "评价的历史版本", "history": "处理记录",
        "flags_reasons": "标记及原因", "contact_log": "记录联系", "channel": "联系方式",
        "outcome": "结果", "no_change": "不变", "promise_date": "承诺修改日期", "note": "备注",
        "save": "保存", "move_to": "改为", "assign": "分配", "assign_to": "分配给", "me": "我",
        "saved": "已保存。", "refused": "未执行", "members": "相关评价", "shared_text": "相同内容",
        "timeline": "时间线", "bulk": "批量处理全部评价", "bulk_assign": "全部分配",
        "bulk_appeal": "记录平台申诉", "bulk_close": "全部关闭", "bulk_done": "已更新 {n} 个工单",
        "bulk_skipped": "跳过", "listing_images": "商品图片", "buyer_photos": "买家图片",
        "queued": "待发送和已发送的提醒", "attempts": "发送次数", "status": "状态", "kind": "类型",
        "created": "创建时间", "sent": "发送时间", "silences": "静默规则", "new_silence": "新建静默",
        "until": "截止日期", "platform_id": "平台编号", "listing_platform_id": "商品（平台编号）",
        "reviewer_platform_id": "买家（平台编号或昵称）", "shop_id": "店铺（配置编号）",
        "expire": "立即结束", "active": "生效中", "ended": "已结束", "by": "操作人",
        "label_true": "正确 (y)", "label_false": "错误 (n)", "fix_cause": "原因应为",
        "nothing_to_label": "没有待标注的内容。", "version": "版本", "live": "当前使用", "metrics": "指标",
        "report": "报告", "promote": "上线", "rollback": "回滚", "force": "即使更差",
        "gate": "与当前版本对比", "weekly_report": "本周", "workload": "每人工作量",
        "open_n": "未完成", "overdue_n": "超时", "median_response": "首次联系中位小时数",
        "crawl_health": "抓取", "scheduler": "定时任务", "last_run": "最近运行", "failures": "失败次数（7 天）",
        "job_failures_note": "失败次数：失败、超时或被中断的运行。"
                             "排队中、运行中、已跳过（店铺正由其他进程抓取）和错过（太晚未运行）的运行不计入。",
        "forbidden": "你没有权限访问此页面。", "not_found": "未找到。",
        "text": "内容", "score": "分数", "target": "对象", "task": "任务", "shop": "店铺",
    },
}
assert set(WEB["en"]) == set(WEB["zh"]), "every board string needs both languages"


class Words:
    """``t.key`` or ``t('key', n=3)`` in templates; stored values (states, causes) via ``t.label(v)``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in WEB else "en"
        self._table = {**STRINGS[self.language], **WEB[self.language]}
        self._labels = LABELS[self.language]

    def __getattr__(self, key: str) -> str:
        try:
            return self._table[key]
        except KeyError:
            raise AttributeError(key) from None

    def __call__(self, key: str, **values: object) -> str:
        return self._table[key].format(**values)

    def label(self, value: object) -> str:
        return self._labels.get(str(value), str(value)) if value is not None else "-"
