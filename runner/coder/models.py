"""Typed views of the Coder objects `tasks` works with.

Each model keeps the JSON object it was decoded from (`raw`), so JSON output can print exactly
what the server sent, in the server's field order, while the rest of the code reads typed fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from runner.coder.provenance import keep

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

#: `TaskStatus` values in the order Coder's CLI lists them for `--status`.
TASK_STATUSES = ("pending", "initializing", "active", "paused", "error", "unknown")


#: Agent lifecycle states in which the agent counts as neither starting nor shutting down.
_STARTING = ("created", "starting")
_SHUTTING_DOWN = ("shutting_down", "shutdown_timeout", "shutdown_error", "off")


#: What a record decoded without its body holds in `raw`.
_NO_BODY: Mapping[str, Any] = MappingProxyType({})


def parse_time(value: str | None) -> datetime | None:
    """Parse Coder's RFC 3339 timestamps (nanosecond fractions and `Z` included)."""
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python < 3.11 accepts at most 6 fractional digits; Go may send up to 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        for ch in rest:
            if not ch.isdigit():
                break
            digits += ch
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_Record = TypeVar("_Record", bound="KeyedRecord")
_READERS: dict[str, Callable[[Mapping[str, Any], str], object]] = {"str": _str, "int": _int}


class KeyedRecord:
    """A record whose fields are named as its JSON keys, each a `str` or an `int` ("" or 0
    when absent or of another type)."""

    @classmethod
    def from_json(cls: type[_Record], data: Mapping[str, Any]) -> _Record:
        declared = fields(cast("type[DataclassInstance]", cls))
        return cls(**{each.name: _READERS[str(each.type)](data, each.name) for each in declared})


class TaskRef(Protocol):
    """What addresses a task in a request: its id and its owner's name."""

    @property
    def id(self) -> str: ...

    @property
    def owner_name(self) -> str: ...


@dataclass(frozen=True)
class TaskState:
    """`current_state`: the agent's latest report."""

    state: str
    message: str
    uri: str
    timestamp: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskState:
        return cls(
            state=_str(data, "state"),
            message=_str(data, "message"),
            uri=_str(data, "uri"),
            timestamp=parse_time(_opt_str(data, "timestamp")),
        )

    @property
    def normalized_state(self) -> str:
        """The state with v2.28-v2.31's `failure` spelled as `failed`."""
        return "failed" if self.state == "failure" else self.state


@dataclass(frozen=True)
class Task:
    """A Coder task (`codersdk.Task`) as returned by any supported server generation."""

    id: str
    name: str
    owner_id: str
    owner_name: str
    organization_id: str
    display_name: str | None
    template_id: str
    template_version_id: str
    template_name: str
    template_display_name: str
    workspace_id: str | None
    workspace_name: str
    workspace_status: str
    workspace_build_number: int
    workspace_agent_id: str | None
    workspace_agent_lifecycle: str | None
    workspace_agent_healthy: bool | None
    workspace_app_id: str | None
    initial_prompt: str
    status: str
    current_state: TaskState | None
    created_at: datetime | None
    updated_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    #: A chat's model (its last turn's); Tasks have none.
    model_config_id: str = ""
    #: A chat that is running but waits for a concurrent-agent slot (CHATS-CONTRACT 7.4): its
    #: wait's timeout does not run meanwhile. Tasks have none.
    queued_for_capacity: bool = False

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, has_display_name: bool = True, keep_raw: bool = True
    ) -> Task:
        """Decode a task; `display_name` exists on GA servers only (v2.29+), so the client
        reads it only there (every key read must be one the server's contract declares).

        `keep_raw=False` drops the body once decoded: a batch polling thousands of tasks reads
        only the fields above, and each kept body would hold its whole decoded JSON alive.
        """
        health = data.get("workspace_agent_health")
        healthy = health.get("healthy") if isinstance(health, Mapping) else None
        state = data.get("current_state")
        build_number = data.get("workspace_build_number")
        return cls(
            id=_str(data, "id"),
            name=_str(data, "name"),
            owner_id=_str(data, "owner_id"),
            owner_name=_str(data, "owner_name"),
            organization_id=_str(data, "organization_id"),
            display_name=_opt_str(data, "display_name") if has_display_name else None,
            template_id=_str(data, "template_id"),
            template_version_id=_str(data, "template_version_id"),
            template_name=_str(data, "template_name"),
            template_display_name=_str(data, "template_display_name"),
            workspace_id=_opt_str(data, "workspace_id"),
            workspace_name=_str(data, "workspace_name"),
            workspace_status=_str(data, "workspace_status"),
            workspace_build_number=build_number if isinstance(build_number, int) else 0,
            workspace_agent_id=_opt_str(data, "workspace_agent_id"),
            workspace_agent_lifecycle=_opt_str(data, "workspace_agent_lifecycle"),
            workspace_agent_healthy=healthy if isinstance(healthy, bool) else None,
            workspace_app_id=_opt_str(data, "workspace_app_id"),
            initial_prompt=_str(data, "initial_prompt"),
            status=_str(data, "status"),
            current_state=TaskState.from_json(state) if isinstance(state, Mapping) else None,
            created_at=parse_time(_opt_str(data, "created_at")),
            updated_at=parse_time(_opt_str(data, "updated_at")),
            raw=keep(data) if keep_raw else _NO_BODY,
        )

    @property
    def full_name(self) -> str:
        """`owner/name`, as Coder's CLI prints tasks in prompts and messages."""
        return f"{self.owner_name}/{self.name}"

    @property
    def healthy(self) -> bool:
        """Coder's `healthy` column: agent healthy and neither starting nor shutting down."""
        lifecycle = self.workspace_agent_lifecycle
        return (
            bool(self.workspace_agent_healthy)
            and lifecycle is not None
            and lifecycle not in _STARTING
            and lifecycle not in _SHUTTING_DOWN
        )

    @property
    def state(self) -> str:
        """`current_state.state` normalised (`failure` → `failed`), or "" when there is none."""
        return self.current_state.normalized_state if self.current_state else ""

    @property
    def message(self) -> str:
        return self.current_state.message if self.current_state else ""


@dataclass(frozen=True)
class LogEntry:
    """One entry of a task's logs: an input sent to the agent or an output from it."""

    id: int
    content: str
    type: str
    time: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEntry:
        entry_id = data.get("id")
        return cls(
            id=entry_id if isinstance(entry_id, int) else 0,
            content=_str(data, "content"),
            type=_str(data, "type"),
            time=parse_time(_opt_str(data, "time")),
            raw=keep(data),
        )


@dataclass(frozen=True)
class TaskLogs:
    """`GET …/logs`: live logs, or (v2.31.1+) a stored snapshot for a task that is not active."""

    entries: tuple[LogEntry, ...]
    snapshot: bool = False
    snapshot_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, has_snapshots: bool = True) -> TaskLogs:
        """Decode logs; snapshots exist from v2.31.1 only, so the client reads them only there."""
        logs = data.get("logs")
        items = logs if isinstance(logs, list) else []
        entries = tuple(LogEntry.from_json(e) for e in items if isinstance(e, Mapping))
        if not has_snapshots:
            return cls(entries=entries)
        return cls(
            entries=entries,
            snapshot=bool(data.get("snapshot", False)),
            snapshot_at=parse_time(_opt_str(data, "snapshot_at")),
        )


@dataclass(frozen=True)
class Organization(KeyedRecord):
    id: str
    name: str


@dataclass(frozen=True)
class User(KeyedRecord):
    id: str
    username: str


@dataclass(frozen=True)
class Template(KeyedRecord):
    id: str
    name: str
    organization_id: str
    active_version_id: str
    display_name: str = ""


@dataclass(frozen=True)
class TemplateVersion(KeyedRecord):
    # `codersdk.TemplateVersion` has no `has_ai_task` (CONTRACT 1.6): whether a version can run
    # tasks is known only from the AI template list (active version) or the create.

    id: str
    name: str
    template_id: str


@dataclass(frozen=True)
class Preset:
    """A template version preset. Coder sends these with Go's capitalised key names."""

    id: str
    name: str
    default: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Preset:
        return cls(id=_str(data, "ID"), name=_str(data, "Name"), default=bool(data.get("Default")))
