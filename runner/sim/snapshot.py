"""The log snapshot an agent uploads when its task pauses (v2.31.1+).

Coder stores at most 64 KiB per snapshot: the upload's body is cut off there
(`POST …/workspaceagents/me/tasks/{task}/log-snapshot`, "Max 64 KiB", CONTRACT section 1;
`taskSnapshotMaxSize` in `coderd/aitasks.go`, v2.31.1). So the agent sends its newest messages
that fit, and a long transcript loses its early inputs, the initial prompt first; Coder's CLI
says "Showing last N messages from snapshot" (golden `Test_TaskLogs_Golden`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: Coder's limit on a snapshot upload.
MAX_SNAPSHOT_BYTES = 64 * 1024

_ROLES = {"input": "user", "output": "agent"}


def capped_snapshot(entries: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The newest `entries` whose AgentAPI messages payload fits in `MAX_SNAPSHOT_BYTES`.

    The payload is AgentAPI's `{"messages": [{id, content, role, time}, …]}`, as uploaded.
    """
    kept: list[dict[str, Any]] = []
    size = len(_EMPTY_PAYLOAD)
    for entry in reversed(entries):
        message = {
            "id": entry["id"],
            "content": entry["content"],
            "role": _ROLES[entry["type"]],
            "time": entry["time"],
        }
        size += len(json.dumps(message, separators=(",", ":")).encode()) + (1 if kept else 0)
        if size > MAX_SNAPSHOT_BYTES:
            break
        kept.append(entry)
    return tuple(reversed(kept))


_EMPTY_PAYLOAD = b'{"messages":[]}'
