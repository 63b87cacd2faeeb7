"""Whether a memory transaction changed the directory (for the directory generation).

Every field of `State` counts except `UNTRACKED` (audit, service last accessed, report
jobs, revocations), so a field added later is tracked without anyone remembering to;
records whose only change is in a usage field of `USAGE_FIELDS` (last-used times, the
MFA counter) do not count, as in `bridge.storage.generation` for SQL.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bridge.storage.memory_repos import State

UNTRACKED = frozenset({"audit", "service_access", "report_jobs", "revocations"})
USAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "access_keys": ("last_used_at", "last_used_service", "last_used_region"),
    "users": ("password_last_used",),
    "roles": ("last_used_at", "last_used_region"),
    "mfa": ("last_counter",),
}


def directory_changed(before: State, after: State) -> bool:
    for name, value in vars(after).items():
        if name in UNTRACKED:
            continue
        old = getattr(before, name)
        if value == old:
            continue
        usage = USAGE_FIELDS.get(name)
        if usage is None or _without(old, usage) != _without(value, usage):
            return True
    return False


def _without(records: dict[str, Any], usage: tuple[str, ...]) -> dict[str, Any]:
    blank = dict.fromkeys(usage)
    return {key: replace(record, **blank) for key, record in records.items()}
