"""benchmarks/scale.py --growth on PostgreSQL measures a database the way autovacuum leaves it.

The shared server runs without autovacuum; a bulk-generated history that nobody analysed plans
every query of the first pipeline run without statistics (reltuples -1) and no index-only scan
(no visibility map), which a production database would not show."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from monitor.config import load_settings
from monitor.db import dispose_engines, session_scope

BOTH_DATABASES = True


def _review_stats(url: str) -> tuple[float, int]:
    """The planner's row estimate (-1: never analysed) and how often the table was vacuumed.
    (Not the visibility map: on a server shared with other test runs, any open transaction in
    the database keeps VACUUM from marking fresh pages all-visible.)"""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(
                "SELECT c.reltuples, s.vacuum_count FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
                "WHERE c.oid = 'review'::regclass")).one())
    finally:
        engine.dispose()


def test_growth_vacuums_and_analyses_before_each_measured_run(backend, tmp_path, monkeypatch, load_benchmark):
    scale = load_benchmark("scale.py")
    url = load_settings(data_dir=tmp_path / "x").database_url if backend == "postgresql" else None
    seen: list[tuple[float, int] | None] = []

    def pipeline_run(data, **kw):  # noqa: ANN001, ANN003, ANN202
        # What the planner knows about the stored reviews when each pipeline run starts.
        seen.append(_review_stats(load_settings(data_dir=data).database_url) if url else None)
        return {"cpu_seconds": 0.0, "wall_seconds": 0.0, "peak_rss_mb": 0}

    monkeypatch.setattr(scale, "_pipeline_run", pipeline_run)
    out = scale.growth(600, 10, tmp_path, url, keep=None)
    assert out["stored_reviews"] == 600 and len(seen) == 3
    if url is None:
        assert out["vacuum_analyze_seconds"] is None
        return
    assert seen == [(600, 1), (600, 2), (600, 2)]  # after generating; after the first run; 10 new rows are far
    # under autovacuum's threshold (20% of the table), so the +10 run finds the table as the first run left it
    assert out["vacuum_analyze_seconds"] is not None


def test_warm_measures_a_workers_first_and_next_job_on_reviews_not_seen_before(backend, tmp_path, monkeypatch,
                                                                               load_benchmark):
    """--warm: the warm child gets its own N new reviews, then another N that another process
    writes (its next job); every batch has new external ids, so each run scores exactly N."""
    scale = load_benchmark("scale.py")
    url = load_settings(data_dir=tmp_path / "x").database_url if backend == "postgresql" else None
    calls: list[dict] = []
    added: list[str] = []

    def pipeline_run(data, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append(kw)
        out = {"cpu_seconds": 0.0, "wall_seconds": 0.0, "peak_rss_mb": 0}
        if kw.get("next_job"):
            n, seed = kw["next_job"]
            scale.add_reviews(load_settings(data_dir=data), n, seed=seed)  # what the child has another process do
            out["next_job"] = {"cpu_seconds": 0.0}
            with session_scope(load_settings(data_dir=data)) as session:  # (a PostgreSQL schema is gone after)
                added.extend(session.execute(
                    text("SELECT external_id FROM review WHERE external_id LIKE 'N%'")).scalars().all())
        return out

    monkeypatch.setattr(scale, "_pipeline_run", pipeline_run)
    out = scale.growth(600, 10, tmp_path, url, keep=None, warm=True)
    assert calls[-1] == {"warm": True, "next_job": (10, 620)} and not any(c for c in calls[:-1])
    assert out["new_10_worker_next_job"] == {"cpu_seconds": 0.0} and "next_job" not in out["new_10_warm_worker"]
    assert len(added) == len(set(added)) == 30


def test_the_database_servers_cpu_is_read_for_postgresql_only(backend, tmp_path, load_benchmark):
    benchdb = load_benchmark("scale.py").benchdb
    settings = load_settings(data_dir=tmp_path / "x")
    dispose_engines()
    with session_scope(settings) as session:
        session.execute(text("SELECT 1"))  # a backend in the pool, as a worker's next job finds it
        before = benchdb.database_cpu_seconds(settings.database_url)
        if backend == "postgresql":  # work on that same backend
            session.execute(text("SELECT count(*) FROM generate_series(1, 3000000)"))
    after = benchdb.database_cpu_seconds(settings.database_url)
    if backend == "sqlite":
        assert before is None and after is None
    else:  # the test server runs on this machine (the benchmark's /proc read needs that)
        assert after - before > 0
