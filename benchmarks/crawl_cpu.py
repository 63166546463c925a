"""CPU seconds per crawl, as a queue worker runs them: ``python benchmarks/crawl_cpu.py``; prints JSON.

Crawls ``--crawls`` (6) shops of the local marketplace (copies of the demo's Taobao, JD and Amazon
shops, ``fixtures.many_shops``) one after the other, without a politeness delay (the delay costs
wall time, not CPU), each way in a fresh process of its own:

- ``job-child``: a job child (``python -m monitor.child_process``) that takes the shop's lease and
  starts the spider (``python -m spiders.run``): the embedded scheduler's crawl, and a queue
  worker's before it ran that part itself;
- ``worker``: the lease and the crawl run in this process, the spider started as ``python -m``;
- ``worker-zygote``: the same, the spider forked from a zygote that preloaded it
  (``zygote.start_zygote``), as ``shopmon worker`` does.

CPU = user + system of the measuring process and of every process a crawl started, read from
``getrusage(RUSAGE_CHILDREN)``, or for zygote children from the fork server's ``cutime + cstime``
(``/proc/<pid>/stat``): they are its children, not ours. The fork server's own CPU (its preload,
once per worker) is reported apart. It does not depend on how loaded the machine is, wall time does.

Usage: python benchmarks/crawl_cpu.py [--crawls 6] [--modes job-child,worker,worker-zygote]
       [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import benchdb  # noqa: E402

MODES = ("job-child", "worker", "worker-zygote")
TICK = os.sysconf("SC_CLK_TCK")


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> tuple[float, float]:
    """(own, waited-for children's) CPU seconds of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK


def _fork_server() -> int:
    """The child of this process that the zygote is: the fork server (once it has exec'd)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = [int(p) for t in Path("/proc/self/task").iterdir()
                    for p in (t / "children").read_text().split()]
        found = [p for p in children if b"multiprocessing.forkserver" in Path(f"/proc/{p}/cmdline").read_bytes()]
        if found:
            return found[0]
        time.sleep(0.05)
    raise RuntimeError("the fork server did not start")


def _child(mode: str, crawls: int, data_dir: Path) -> None:
    from fixtures.many_shops import copy_shops
    from monitor import child_process, zygote
    from monitor.config import load_settings
    from monitor.crawl import SPIDER_PRELOAD
    from monitor.db import upgrade
    from monitor.demo_site.server import serve_marketplace
    from monitor.scheduler import tasks

    with serve_marketplace() as market:
        market.data = copy_shops(market.data, crawls)
        shops = [{**s, "interval_minutes": 1440, "jitter_seconds": 0} for s in market.shops()]
        settings = load_settings(data_dir=data_dir, shops=shops,
                                 crawl={"download_delay": 0.0, "autothrottle": False, "retry_times": 0},
                                 alerts={"recipients": {"serious_case": ["owner@example.com"]}})
        upgrade(settings)
        server = None
        if mode == "worker-zygote":
            zygote.start_zygote(SPIDER_PRELOAD)
            server = _fork_server()

        def spent() -> float:
            return _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) + (
                _proc_cpu(server)[1] if server else 0.0)

        rows = []
        for shop in shops:
            cpu, clock = spent(), time.monotonic()
            if mode == "job-child":
                limit = settings.crawl.timeout_minutes * 60
                counts = child_process.run_function(tasks.HOOKS["crawl"], settings,
                                                    {"shop_id": shop["id"], "timeout": limit}, limit + 60)
            else:
                counts = tasks.crawl_queued(settings, shop["id"])
            rows.append({"shop": shop["id"], "status": counts["crawl_status"], "reviews_new": counts["reviews_new"],
                         "cpu_s": round(spent() - cpu, 2), "wall_s": round(time.monotonic() - clock, 2)})
    out = {"mode": mode, "crawls": rows, "cpu_s_per_crawl": round(sum(r["cpu_s"] for r in rows) / len(rows), 2)}
    if server:
        out["fork_server_own_cpu_s"] = round(_proc_cpu(server)[0], 2)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crawls", type=int, default=6)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    benchdb.add_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crawl-cpu-") as tmp:
        if args.child:
            _child(args.child, args.crawls, Path(tmp) / "data")
            return
        runs = []
        for mode in args.modes.split(","):
            with benchdb.database(args.database_url, f"crawlcpu_{mode.replace('-', '_')}"):
                done = subprocess.run([sys.executable, __file__, "--child", mode, "--crawls", str(args.crawls)],
                                      capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(json.dumps({"database": benchdb.backend(args.database_url), "load_average": os.getloadavg(),
                      "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
