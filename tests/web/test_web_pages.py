"""Board pages and actions over HTTP (the browser tests cover the same flows in Chromium)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import create_engine, event, text
from sqlmodel import select

from models import Case, CaseEvent, Flag, Label, Silence
from models.scheduler import FAILED_JOB_STATUSES, JobRun
from monitor.db import get_engine, session_scope
from monitor.web.routes.supervisor import _latest_by
from web_testkit import NOW, app, client_for, csrf_of, seeded  # noqa: F401


def test_every_page_renders_for_an_admin(seeded, client_for) -> None:  # noqa: ANN001
    admin = client_for("ada")
    for path in ("/", "/?mine=1", f"/cases/{seeded.critical_case_id}", "/attacks", f"/attacks/{seeded.attack_flag_id}",
                 "/listings", "/alerts", "/analyst/labels", "/analyst/models", "/supervisor", "/supervisor/report",
                 "/images/1"):
        r = admin.get(path)
        assert r.status_code == 200, (path, r.text[-400:])
    assert admin.get("/cases/99999").status_code == 404


def test_a_member_case_links_to_its_attack_through_its_parent_case(seeded, client_for) -> None:  # noqa: ANN001
    staff = client_for("amy")
    with session_scope(seeded.settings) as s:
        parent = s.exec(select(Case).where(Case.flag_id == seeded.attack_flag_id, Case.review_id.is_(None))).one()
        member = s.exec(select(Case).where(Case.parent_id == parent.id)).first()
        member.flag_id = None  # opened for its own review, not by the attack flag: only the parent names it
        member_id = member.id
    link = f'href="/attacks/{seeded.attack_flag_id}"'
    assert link in staff.get(f"/cases/{member_id}").text
    assert link not in staff.get(f"/cases/{seeded.critical_case_id}").text
    with session_scope(seeded.settings) as s:
        s.get(Case, member_id).parent_id = None  # unlinked: the page no longer names the attack
    assert link not in staff.get(f"/cases/{member_id}").text


def test_an_update_survives_a_write_committed_between_its_read_and_its_write(seeded, client_for) -> None:  # noqa: ANN001
    """Another worker commits while this update is between reading the case and writing it."""
    staff = client_for("amy")
    csrf = csrf_of(staff.get(f"/cases/{seeded.critical_case_id}").text)
    other_worker = create_engine(seeded.settings.db_url)
    wrote: list[str] = []

    def write_in_between(_conn, _cursor, statement: str, *_args: object) -> None:
        if not wrote and statement.lstrip().startswith("SELECT") and 'FROM "case"' in statement:
            with other_worker.begin() as conn:
                conn.execute(text('UPDATE "case" SET owner = :o WHERE id = :i'), {"o": "sam", "i": seeded.xss_case_id})
            wrote.append(statement)

    engine = get_engine(seeded.settings)
    event.listen(engine, "after_cursor_execute", write_in_between)
    try:
        r = staff.post(f"/cases/{seeded.critical_case_id}/contact", data={"csrf": csrf, "note": "called"},
                       follow_redirects=False)
    finally:
        event.remove(engine, "after_cursor_execute", write_in_between)
        other_worker.dispose()
    assert wrote and r.status_code == 303
    with session_scope(seeded.settings) as s:
        assert s.get(Case, seeded.xss_case_id).owner == "sam"
        notes = s.exec(select(CaseEvent).where(CaseEvent.case_id == seeded.critical_case_id,
                                               CaseEvent.action == "note")).all()
        assert [e.note for e in notes] == ["called"]


def test_board_filters_sort_and_pages(seeded, client_for) -> None:  # noqa: ANN001
    staff = client_for("amy")
    html = staff.get("/").text
    severities = re.findall(r'class="case-row" data-severity="(\w+)"', html)
    order = ["critical", "high", "medium", "low"]
    assert severities == sorted(severities, key=order.index) and severities[0] == "critical"
    crit = staff.get("/", params={"severity": "critical"}).text
    assert set(re.findall(r'data-severity="(\w+)"', crit)) == {"critical"}
    attack = staff.get("/", params={"attack": seeded.attack_flag_id}).text
    assert len(re.findall(r'class="case-row"', attack)) == 5  # the attack's own case and its 4 members
    assert "5 cases" in attack
    overdue = staff.get("/", params={"overdue": "1"}).text
    assert len(re.findall(r'class="case-row"', overdue)) == len(severities)  # all seeded 50 h ago
    kind = staff.get("/", params={"kind": "malicious"}).text
    assert len(re.findall(r'class="case-row"', kind)) == 1
    # keyset paging: page size 5 over 7 cases, no case twice, none lost
    staff.app.state.settings.web.page_size = 5
    first = staff.get("/").text
    ids = re.findall(r'<a href="/cases/(\d+)">', first)
    nxt = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    ids += re.findall(r'<a href="/cases/(\d+)">', staff.get(nxt).text)
    with session_scope(seeded.settings) as s:
        assert sorted(map(int, ids)) == sorted(c.id for c in s.exec(select(Case)).all())
    assert len(ids) == len(set(ids))


def test_export_csv_and_xlsx_of_the_filtered_view(seeded, client_for) -> None:  # noqa: ANN001
    staff = client_for("amy")
    r = staff.get("/export.csv", params={"attack": seeded.attack_flag_id})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 6 and "Case" in rows[0] and "Review" in rows[0]
    r = staff.get("/export.xlsx")
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.values)
    with session_scope(seeded.settings) as s:
        assert len(values) == 1 + len(s.exec(select(Case)).all())
    texts = [v[list(values[0]).index("Review")] for v in values[1:]]
    assert any(t and "质量太差" in t for t in texts)


def test_contact_log_with_promise_date_goes_through_the_workflow(seeded, client_for) -> None:  # noqa: ANN001
    staff = client_for("amy")
    cid = seeded.critical_case_id
    token = csrf_of(staff.get(f"/cases/{cid}").text)
    promise = (NOW + timedelta(days=5)).date().isoformat()
    r = staff.post(f"/cases/{cid}/contact", data={"csrf": token, "channel": "wangwang", "outcome": "",
                                                  "promise_date": promise, "note": "旺旺留言，买家答应修改"},
                   follow_redirects=False)
    assert r.status_code == 303
    with session_scope(seeded.settings) as s:
        case = s.get(Case, cid)
        assert case.state == "promised" and case.contact_status == "wangwang"
        assert case.promised_by.date() - (NOW + timedelta(days=5)).date() in (timedelta(0), timedelta(days=1))
        actions = {(e.action, e.actor) for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == cid))}
        assert {("contact", "amy"), ("promise", "amy"), ("note", "amy")} <= actions
    # an illegal transition is refused with the workflow's reason and changes nothing
    r = staff.post(f"/cases/{cid}/state", data={"csrf": token, "state": "open"})
    assert r.status_code == 422 and "cannot go from" in r.text
    page = staff.get(f"/cases/{cid}").text
    buttons = set(re.findall(r'data-state="(\w+)"', page))
    from alerts.cases import TRANSITIONS

    assert buttons == set(TRANSITIONS["promised"])


def test_bulk_appeal_writes_each_members_history(seeded, client_for) -> None:  # noqa: ANN001
    staff = client_for("amy")
    page = staff.get(f"/attacks/{seeded.attack_flag_id}").text
    r = staff.post(f"/attacks/{seeded.attack_flag_id}/bulk", data={"csrf": csrf_of(page), "action": "appeal"})
    assert r.status_code == 200
    with session_scope(seeded.settings) as s:
        flag = s.get(Flag, seeded.attack_flag_id)
        cases = s.exec(select(Case).where(Case.review_id.in_(flag.members))).all()
        assert len(cases) == 4 and {c.state for c in cases} == {"platform_appeal"}
        for c in cases:
            ev = s.exec(select(CaseEvent).where(CaseEvent.case_id == c.id, CaseEvent.action == "state")).all()
            assert [(e.actor, e.data["after"]) for e in ev] == [("amy", "platform_appeal")]


def test_silence_by_listing_platform_id(seeded, client_for) -> None:  # noqa: ANN001
    staff = client_for("amy")
    token = csrf_of(staff.get("/alerts").text)
    r = staff.post("/silences", data={"csrf": token, "listing": "605258110430", "until": "2099-01-01",
                                      "reason": "photo reshoot"}, follow_redirects=False)
    assert r.status_code == 303
    r = staff.post("/silences", data={"csrf": token, "listing": "no-such-item", "until": "2099-01-01"})
    assert "no-such-item" in r.text and "give its id" in r.text
    with session_scope(seeded.settings) as s:
        silences = s.exec(select(Silence)).all()
        assert [(x.listing_id, x.created_by) for x in silences] == [(seeded.listing_id, "amy")]


def test_label_a_flag(seeded, client_for) -> None:  # noqa: ANN001
    analyst = client_for("ann")
    token = csrf_of(analyst.get("/analyst/labels").text)
    r = analyst.post(f"/analyst/labels/{seeded.mismatch_flag_id}", data={"csrf": token, "value": "no"},
                     headers={"HX-Request": "true"})
    assert r.status_code == 200 and "rejected" in r.text
    with session_scope(seeded.settings) as s:
        assert s.get(Flag, seeded.mismatch_flag_id).status == "rejected"
        label = s.exec(select(Label)).one()
        assert (label.task, label.value, label.labeler) == ("image_mismatch", "no", "ann")


def test_times_in_the_shops_time_zone(tmp_path) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient
    from zoneinfo import ZoneInfo

    from models import Review
    from monitor.web.app import create_app
    from web_testkit import seed, sign_in, web_settings

    settings = web_settings(tmp_path, shops=[{"id": "demo-tb", "platform": "taobao", "url": "http://127.0.0.1/shop",
                                              "timezone": "Asia/Shanghai"}],
                            alerts={"recipients": {"serious_case": ["a@example.com"]}})
    seeded = seed(settings)
    with session_scope(settings) as s:
        case = s.get(Case, seeded.critical_case_id)
        posted = s.get(Review, case.review_id).created_at
    with TestClient(create_app(settings)) as client:
        sign_in(client, "amy")
        page = client.get(f"/cases/{seeded.critical_case_id}").text
        board = client.get("/").text
    shanghai = posted.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    utc = posted.strftime("%Y-%m-%d %H:%M")
    assert shanghai != utc
    assert shanghai in page and "Asia/Shanghai" in page
    assert shanghai in board


def test_supervisor_health_counts_failed_job_runs_not_skipped_ones(session) -> None:  # noqa: ANN001
    t0 = datetime(2026, 12, 1, 6, tzinfo=UTC)
    for hours, status in enumerate(("failed", "skipped", "ok", "skipped")):
        at = t0 + timedelta(hours=hours)
        session.add(JobRun(job_id="crawl:alpha", task="crawl", scheduled_for=at, holder="s", status=status, started_at=at))
    session.commit()
    [(latest, failures)] = _latest_by(session, JobRun, JobRun.job_id, t0 - timedelta(days=1), FAILED_JOB_STATUSES)
    assert (latest.status, failures) == ("skipped", 1)


def test_supervisor_page_counts_job_runs_that_failed_timed_out_or_were_interrupted(seeded, client_for) -> None:  # noqa: ANN001
    # Queued (waiting for a worker), running, missed (too late, never run), skipped and ok runs
    # did not fail: of these eight, three did.
    statuses = ("failed", "timeout", "interrupted", "queued", "missed", "skipped", "running", "ok")
    with session_scope(seeded.settings) as s:
        for hours, status in enumerate(statuses):
            at = NOW - timedelta(hours=len(statuses) - hours)
            s.add(JobRun(job_id="crawl:zeta", task="crawl", scheduled_for=at, holder="s", status=status, started_at=at))
    page = client_for("sam").get("/supervisor").text
    row = re.search(r"<tr><td>crawl:zeta</td>(.*?)</tr>", page, re.S)
    assert row is not None, page[-2000:]
    assert re.findall(r"<td>([^<]*)</td>", row.group(1))[-1] == "3"
    assert "failed, timed out or were interrupted" in page
