"""The versioned plan document: what `plan -o json` prints and `plan --out` saves.

A saved plan carries the fully rendered desired tasks (so `apply PLANFILE` needs no manifest,
variables or environment), the options it was made with, its actions, and the fingerprint of
the observed state; `apply` refuses it when a fresh observation no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.errors import InvalidInputError
from runner.manifest.model import BACKENDS, Batch, BatchLimits, DesiredTask
from runner.money import parse_usd, usd
from runner.plan import Action, Plan, PlanOptions

FORMAT = "coder-tasks-plan"
#: The version written. Every earlier version is read too: a field an older plan lacks takes
#: its default (`DesiredTask.from_data`). Raise it only when a reader of an older version would
#: misread a newer plan.
FORMAT_VERSION = 2
#: Written when no task has expectations: version 1 readers read such a plan exactly. A reader
#: of version 1 would drop `expect` and let unmet expectations pass, so those plans are 2.
PLAIN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from a file: the batch it was made for, its options and fingerprint."""

    batch: Batch
    options: PlanOptions
    fingerprint: str
    actions: tuple[Mapping[str, Any], ...]
    server_url: str


def action_document(action: Action) -> dict[str, Any]:
    """One action as JSON."""
    return {
        "action": action.kind.value,
        "symbol": action.kind.symbol.strip(),
        "name": action.name,
        "owner": action.owner,
        "coder_name": action.coder_name,
        "task_id": action.task_id,
        "follow_ups": list(action.follow_ups),
        "delivered_follow_ups": action.delivered,
        "logs_verified": action.logs_verified,
        "reasons": list(action.reasons),
        # Only when set, so plans of batches without clean-up read as they did.
        **({"after": action.after} if action.after else {}),
    }


def plan_document(
    plan: Plan, batch: Batch, *, server_version: str = "", server_url: str = ""
) -> dict[str, Any]:
    """The plan as a JSON-ready document (format `coder-tasks-plan`, version 1 or 2)."""
    # Expectations, retries and batch limits are version 2: an older reader would drop them.
    expects = any(t.expect or t.retries for t in batch.tasks) or batch.limits != BatchLimits()
    document: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if expects else PLAIN_FORMAT_VERSION,
        "batch": plan.batch,
        "source": batch.source,
        "server": {"version": server_version, "url": server_url},
        "fingerprint": plan.fingerprint,
        "options": {
            "replace": plan.options.replace,
            "prune": plan.options.prune,
            "targets": sorted(plan.options.targets),
        },
        "summary": {
            "create": plan.to_create,
            "update": plan.to_update,
            "delete": plan.to_delete,
            "drifted": plan.drifted,
            "blocked": plan.conflicts,
            "changes": plan.has_changes,
            "text": plan.summary(),
        },
        "unlisted": list(plan.unlisted),
        "actions": [action_document(a) for a in plan.actions],
        "desired": [t.to_data() for t in batch.tasks],
    }
    # Left out when `auto`, so such a plan reads exactly as plans made before the choice existed.
    if batch.backend != "auto":
        document["backend"] = batch.backend
    limits = _limits_document(batch.limits)
    if limits:
        document["limits"] = limits
    return document


def _limits_document(limits: BatchLimits) -> dict[str, Any]:
    """`defaults.max_running` and `defaults.budget` as set (US dollars as a decimal string)."""
    document: dict[str, Any] = {}
    if limits.max_running is not None:
        document["max_running"] = limits.max_running
    if limits.budget_micros is not None:
        document["budget"] = usd(limits.budget_micros).removeprefix("$")
    return document


def _limits(data: Any) -> BatchLimits:
    """The limits `_limits_document` wrote; TypeError or ValueError for anything else."""
    if not isinstance(data, Mapping):
        raise TypeError("limits is not a mapping")
    running, budget = data.get("max_running"), data.get("budget")
    if running is not None and (not isinstance(running, int) or running < 1):
        raise ValueError("limits.max_running is not a positive integer")
    return BatchLimits(running, None if budget is None else parse_usd(str(budget)))


def dumps(document: Mapping[str, Any]) -> str:
    """The document as indented JSON text with a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def looks_like_plan(text: str) -> bool:
    """True when `text` is a plan document (JSON with this format tag), not a manifest."""
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return False
    try:
        data = json.loads(stripped)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def load_plan(path: str, text: str) -> SavedPlan:
    """Parse a saved plan; raises InvalidInputError naming the file when it is not one."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInputError(f"{path}: not a plan file: {error}") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInputError(f"{path}: not a plan file (no `format: {FORMAT}`)")
    version = data.get("format_version")
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not 1 <= version <= FORMAT_VERSION
    ):
        raise InvalidInputError(
            f"{path}: plan format version {data.get('format_version')!r} is not supported "
            f"(this tasks reads version {FORMAT_VERSION}); make the plan again"
        )
    try:
        name = str(data["batch"])
        tasks = tuple(DesiredTask.from_data(name, item) for item in data["desired"])
        options = data["options"]
        plan_options = PlanOptions(
            replace=bool(options["replace"]),
            prune=bool(options["prune"]),
            targets=frozenset(str(t) for t in options["targets"]),
        )
        server = data.get("server") or {}
        backend = str(data.get("backend") or "auto")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}")
        return SavedPlan(
            batch=Batch(
                name,
                tasks,
                str(data.get("source") or path),
                backend,
                _limits(data.get("limits") or {}),
            ),
            options=plan_options,
            fingerprint=str(data["fingerprint"]),
            actions=tuple(data["actions"]),
            server_url=str(server.get("url") or ""),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInputError(f"{path}: damaged plan file ({error!r})") from error
