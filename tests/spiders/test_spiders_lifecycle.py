"""Crawl process lifecycle (issue 12 item 4): children die with their parent, one crawl per shop,
dead runs reaped as interrupted with what they stored, a killed child's error names the kill."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import CrawlRun
from monitor import crawl as crawl_mod
from monitor.config import Settings, load_settings
from monitor.db import get_engine, upgrade
from monitor.scheduler.lease import Busy, is_held
from test_spiders_crawl_process import SHOP, fake_child

# What the stand-in child does first: store one listing and two reviews for its shop, as a
# spider would, then say where it is (its pid in a file).
STORE_AND_REPORT = """
from datetime import UTC, datetime
from sqlmodel import Session
from models import Listing, Review
from monitor.config import Settings
from monitor.db import get_engine
job = json.load(open(args[-1]))
with Session(get_engine(Settings(**job["settings"]))) as s:
    s.add(Listing(platform="taobao", external_id="L1", shop_id=job["shop_row_id"], title="t", last_seen=datetime.now(UTC)))
    for i in range(2):
        s.add(Review(platform="taobao", external_id=f"R{i}", shop_id=job["shop_row_id"], rating=1, text="x"))
    s.commit()
print("GET http://127.0.0.1/taobao/item?id=1 200 (an ordinary log line, not a cause)", flush=True)
open(os.environ["PIDFILE"], "w").write(str(os.getpid()))
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    s = load_settings(data_dir=tmp_path / "data", shops=[SHOP], alerts={"recipients": {"serious_case": ["o@example.com"]}})
    upgrade(s)
    return s


def _wait_for(predicate, what: str, limit: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_child_error_names_the_kill_and_counts_what_it_stored(cfg, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid"))
    body = STORE_AND_REPORT + "os.kill(os.getpid(), 9)\n"
    monkeypatch.setattr(sys, "executable", str(fake_child(tmp_path, body)))
    run = crawl_mod.crawl_shop(cfg, cfg.shop("tb1"), timeout=60)
    assert (run.status, run.failure_kind) == ("failed", "error")
    assert "killed by SIGKILL" in run.error and "GET http" not in run.error
    assert (run.reviews_new, run.listings_seen) == (2, 1)


def test_one_crawl_per_shop_at_a_time(cfg, tmp_path, monkeypatch) -> None:
    go = tmp_path / "go"
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid"))
    body = ("open(os.environ['PIDFILE'], 'w').write(str(os.getpid()))\n"
            "import time\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.05)\n"
            "job = json.load(open(args[-1])); json.dump({'status': 'ok'}, open(job['result_path'], 'w'))\n")
    monkeypatch.setattr(sys, "executable", str(fake_child(tmp_path, body)))
    first: list[CrawlRun] = []
    thread = threading.Thread(target=lambda: first.append(crawl_mod.crawl_shop(cfg, cfg.shop("tb1"), timeout=120)))
    thread.start()
    try:
        _wait_for((tmp_path / "pid").exists, "the first crawl's child")
        with pytest.raises(Busy, match="crawl:tb1 is held by"):
            crawl_mod.crawl_shop(cfg, cfg.shop("tb1"), timeout=120)
    finally:
        go.write_text("1")
        thread.join(timeout=120)
    assert first and first[0].status == "ok"
    assert not is_held(cfg, crawl_mod.crawl_lock_name("tb1"))  # released at the end
    with Session(get_engine(cfg)) as s:
        assert len(s.exec(select(CrawlRun)).all()) == 1  # the refused crawl left no run behind


PARENT = """
import sys
from monitor import crawl as crawl_mod
from monitor.config import load_settings
crawl_mod.CRAWL_LOCK_SECONDS = 2.0
sys.executable = sys.argv[2]  # the crawl child is started as sys.executable -m spiders.run
settings = load_settings(data_dir=sys.argv[1], shops=[{shop!r}], alerts={{"recipients": {{"serious_case": ["o@example.com"]}}}})
crawl_mod.crawl_shop(settings, settings.shop("tb1"), timeout=600)
"""


def test_kill_9_of_the_parent_takes_the_child_along_and_the_run_is_reaped(cfg, tmp_path, monkeypatch) -> None:
    pidfile = tmp_path / "pid"
    # The real child (spiders.run) starts with die_with_parent(); the stand-in does the same.
    child = fake_child(tmp_path, "from monitor.child_process import die_with_parent\ndie_with_parent()\n"
                       + STORE_AND_REPORT + "import time\ntime.sleep(300)\n")
    env = {**os.environ, "PIDFILE": str(pidfile)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(shop=SHOP), str(cfg.data_dir), str(child)], env=env)
    try:
        # written in one call, but it can be seen empty between open() and write()
        _wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "the crawl child")
        child_pid = int(pidfile.read_text())
        job_dirs = list((cfg.data_dir / "jobs").iterdir())
        assert len(job_dirs) == 1
        parent.kill()
        parent.wait(timeout=30)
        _wait_for(lambda: not _alive(child_pid), "the orphaned crawl child to die", limit=30)
    finally:
        if parent.poll() is None:
            parent.kill()
    with Session(get_engine(cfg)) as s:
        [run] = s.exec(select(CrawlRun)).all()
    assert run.status == "running"  # nobody was left to record it
    # The next crawl of the shop waits for the dead holder's lock to lapse, then reaps the run.
    _wait_for(lambda: not is_held(cfg, crawl_mod.crawl_lock_name("tb1")), "the dead crawl's lock to expire")
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid2"))
    ok = "job = json.load(open(args[-1])); json.dump({'status': 'ok'}, open(job['result_path'], 'w'))\n"
    monkeypatch.setattr(sys, "executable", str(fake_child(tmp_path, ok)))
    assert crawl_mod.crawl_shop(cfg, cfg.shop("tb1"), timeout=60).status == "ok"
    with Session(get_engine(cfg)) as s:
        old = s.get(CrawlRun, run.id)
    assert (old.status, old.failure_kind) == ("interrupted", "interrupted")
    assert (old.reviews_new, old.listings_seen) == (2, 1) and old.finished_at is not None
    assert "GET http" not in old.error
    assert not job_dirs[0].exists()


def test_reaper_leaves_a_run_whose_lock_is_held_alone(cfg) -> None:
    from monitor.scheduler.lease import exclusive

    with Session(get_engine(cfg)) as s:
        s.add(CrawlRun(shop_config_id="tb1", spider="taobao", status="running"))
        s.commit()
    with exclusive(cfg, crawl_mod.crawl_lock_name("tb1"), 30):
        assert crawl_mod.reap_stale_runs(cfg) == 0
    assert crawl_mod.reap_stale_runs(cfg) == 1


def test_scheduler_job_folders_of_dead_processes_are_swept(cfg) -> None:
    from monitor.child_process import sweep_job_dirs

    jobs = cfg.data_dir.resolve() / "jobs"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (jobs / f"sched-{dead.pid}-abc").mkdir(parents=True)
    (jobs / f"sched-{dead.pid}-abc" / "in.json").write_text("{}")
    (jobs / f"sched-{os.getpid()}-def").mkdir()
    assert sweep_job_dirs(cfg) == 1
    assert [p.name for p in jobs.iterdir()] == [f"sched-{os.getpid()}-def"]
