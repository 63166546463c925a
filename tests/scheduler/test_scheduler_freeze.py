"""The scheduler and the queue workers run the pipeline in long-lived processes: after the first
run, what it imported is frozen out of the garbage collector's reach, once per process."""

from __future__ import annotations

import threading

from monitor.scheduler import tasks


def test_the_pipeline_runs_then_freezes_what_the_process_holds_once(monkeypatch, tmp_path):
    calls: list[str] = []
    monkeypatch.setattr(tasks, "_frozen", threading.Event())
    monkeypatch.setattr(tasks, "hook", lambda name: (lambda settings: calls.append(name) or {"reviews_scored": 3}))
    monkeypatch.setattr(tasks.gc, "collect", lambda: calls.append("collect") or 0)
    monkeypatch.setattr(tasks.gc, "freeze", lambda: calls.append("freeze"))

    assert tasks.process(object()) == {"reviews_scored": 3}
    assert tasks.process(object()) == {"reviews_scored": 3}
    # Collected before freezing, so no garbage is frozen with the rest; never again after.
    assert calls == ["process", "collect", "freeze", "process"]

