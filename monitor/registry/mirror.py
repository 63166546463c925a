"""The registry's versions mirrored into the ``ModelVersion`` table, for pages and reports.

The folder is the source of truth; the rows are rewritten from it after every change.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import select

from models import ModelVersion
from monitor.db import insert_missing
from monitor.registry.layout import VersionMeta, finite, json_default


class _Versions(Protocol):
    def versions(self, name: str | None = None) -> list[VersionMeta]: ...


def sync_to_db(registry: _Versions, session: Any, *, name: str | None = None) -> int:
    """Mirror registry versions into ``ModelVersion`` rows (insert new, refresh ``live``)."""
    metas = registry.versions(name)
    stmt = select(ModelVersion)
    if name is not None:
        stmt = stmt.where(ModelVersion.name == name)
    existing = {(r.name, r.version): r for r in session.exec(stmt)}
    changed = 0
    for m in metas:
        row = existing.get((m.name, m.version))
        if row is None:
            # ON CONFLICT: two processes mirroring the same new version write one row.
            changed += insert_missing(session, ModelVersion(
                name=m.name,
                version=m.version,
                path=m.path,
                live=m.live,
                data_fingerprint=m.data_fingerprint,
                metrics=json.loads(json.dumps(finite(m.metrics), default=json_default)),
                created_at=datetime.fromisoformat(m.created_at),
            ), ("name", "version")) is not None
        elif row.live != m.live:
            row.live = m.live
            session.add(row)
            changed += 1
    session.flush()
    return changed
