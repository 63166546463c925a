"""The workers' part of ``shopmon status``: the queue's depth and every worker heard from."""

from __future__ import annotations

from typing import Any

import redis

from monitor.config import Settings
from monitor.db import safe_url
from monitor.errors import ConfigError
from monitor.workers import registry
from monitor.workers.queue import open_queue


def gather(settings: Settings) -> dict[str, Any] | None:
    """None without ``workers.redis_url``; an ``error`` entry when Redis does not answer."""
    if not settings.workers.redis_url:
        return None
    try:
        queue = open_queue(settings)
    except ConfigError as exc:
        return {"redis": safe_url(settings.workers.redis_url), "error": str(exc)}
    try:
        return {"redis": safe_url(settings.workers.redis_url), "namespace": queue.namespace,
                "queue": queue.depth(), "workers": registry.workers(queue)}
    except redis.RedisError as exc:
        return {"redis": safe_url(settings.workers.redis_url), "error": f"Redis: {exc}"}
    finally:
        queue.close()


def render(data: dict[str, Any] | None) -> str:
    if data is None:
        return "workers: none (no workers.redis_url: the scheduler runs every job itself)"
    if "error" in data:
        return f"workers: unknown, {data['error']}"
    q = data["queue"]
    lines = [f"queue ({data['redis']}, {data['namespace']}): {q['waiting']} waiting, {q['taken']} taken by workers"]
    if not data["workers"]:
        lines.append("workers: none heard from (start `shopmon worker` on each machine)")
        return "\n".join(lines)
    lines.append(f"workers: {sum(w['alive'] for w in data['workers'])} alive")
    for w in data["workers"]:
        state = "" if w["alive"] else " SILENT (its jobs go back on the queue)"
        jobs = ", ".join(w["running"]) or "idle"
        lines.append(f"  {w['host']} pid {w['pid']}: {len(w['running'])}/{w['threads']} running ({jobs}); "
                     f"last heartbeat {w['age_s']:.0f} s ago{state}")
    return "\n".join(lines)
