"""benchmarks/detect_throughput.py's memory run on PostgreSQL: a fresh database per size, vacuumed
and analysed before the measured process starts, read as throughput too."""

from __future__ import annotations

from monitor.config import load_settings


def test_memory_run_on_postgresql_is_measured_on_an_analysed_database(pg_url, tmp_path, monkeypatch, load_benchmark):
    bench = load_benchmark("detect_throughput.py")
    analysed: list[str] = []
    vacuum = bench.benchdb.vacuum_analyze

    def vacuum_analyze(url):  # noqa: ANN001, ANN202
        vacuum(url)
        analysed.append(load_settings(data_dir=tmp_path).database_url)  # the schema the child then reads

    monkeypatch.setattr(bench.benchdb, "vacuum_analyze", vacuum_analyze)
    out = bench.memory(300, tmp_path, url=pg_url)
    assert out["database"] == "postgresql" and out["flags"]["reviews_scored"] == 300
    assert out["reviews_per_cpu_second"] > 0 and out["peak_rss_mb"] > 0
    assert len(analysed) == 1 and "shopmon_mem_" in analysed[0]
