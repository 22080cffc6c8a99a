"""The loader's output: immutable, fully rendered desired tasks.

Everything downstream (planner, executor, renderers) reads these and never the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from runner import defaults, ownership
from runner.errors import Location
from runner.money import parse_usd

WAIT_MODES = ("none", "idle", "complete")
DRIFT_POLICIES = ("report", "replace")
#: What apply does to a task once its outcome is final (`after:`).
AFTER_POLICIES = ("keep", "stop", "remove")
#: The Coder API a batch runs on; `auto` picks Tasks where the server serves them, else Chats.
BACKENDS = ("auto", "tasks", "chats")
#: What `expect.pull_request` may ask for.
PULL_REQUEST_EXPECTATIONS = ("opened", "merged", "none")
#: The ends of an attempt `retry_on` may name, and its default.
RETRY_CAUSES = ("error", "expect", "timeout")
DEFAULT_RETRY_ON = ("error", "expect")


@dataclass(frozen=True)
class Expectations:
    """What a task's result must show when its wait ends (`expect:`); empty: nothing is checked.

    `message` is a regular expression (Python's `re`), checked by the loader; it is kept as text
    so saved plans and `tasks render` carry it as written.
    """

    pull_request: str | None = None  # opened | merged | none
    message: str | None = None
    max_cost: str | None = None  # US dollars as written, e.g. "1.50" (runner.money)

    def __bool__(self) -> bool:
        return any(value is not None for value in (self.pull_request, self.message, self.max_cost))

    def to_data(self) -> dict[str, str]:
        """Only the expectations that are set, in schema order."""
        data = {
            "pull_request": self.pull_request,
            "message": self.message,
            "max_cost": self.max_cost,
        }
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_data(cls, data: object) -> Expectations:
        """The expectations `to_data` gave; TypeError or ValueError for anything else."""
        if not isinstance(data, Mapping):
            raise TypeError("expect is not a mapping")
        unknown = set(data) - {"pull_request", "message", "max_cost"}
        if unknown:
            raise ValueError(f"unknown expectation {sorted(unknown)[0]}")
        pull_request, message = data.get("pull_request"), data.get("message")
        max_cost = data.get("max_cost")
        if max_cost is not None:
            parse_usd(str(max_cost))  # ValueError for anything but dollars
        if pull_request is not None and pull_request not in PULL_REQUEST_EXPECTATIONS:
            raise ValueError(f"expect.pull_request is not one of {PULL_REQUEST_EXPECTATIONS}")
        if message is not None and not isinstance(message, str):
            raise TypeError("expect.message is not text")
        return cls(pull_request=pull_request, message=message, max_cost=max_cost)


@dataclass(frozen=True)
class Origin:
    """Where a desired task came from: the file, the line of its entry, its matrix values."""

    file: str
    line: int
    matrix: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DesiredTask:
    """One task as the manifest wants it, after defaults, templating and matrix expansion."""

    batch: str
    name: str  # the manifest's name, without the batch marker
    prompt: str
    template: str | None = None  # None: a chat whose agent picks its own environment
    owner: str = "me"
    template_version: str | None = None  # None: the template's active version
    preset: str | None = None
    organization: str | None = None
    follow_ups: tuple[str, ...] = ()
    wait: str = "idle"  # none | idle | complete
    timeout_seconds: float = defaults.TIMEOUT_SECONDS
    idle_grace_seconds: float = defaults.IDLE_GRACE_SECONDS  # idle must hold before it counts
    poll_interval_seconds: float = defaults.POLL_INTERVAL_SECONDS
    #: How long polls may fail in a row before apply gives up on the deployment.
    lost_contact_after_seconds: float = defaults.LOST_CONTACT_AFTER_SECONDS
    on_drift: str = "report"  # report | replace
    #: Clean-up once the outcome is final: keep | stop | remove (not part of what is created).
    after: str = "keep"
    #: Checked when the wait ends; not part of what is created, so a change is not drift.
    expect: Expectations = Expectations()
    #: Tries after the first when an attempt ends as `retry_on` says; like `expect`, not part of
    #: what is created, so a change is not drift.
    retries: int = 0
    retry_on: tuple[str, ...] = DEFAULT_RETRY_ON
    retry_prompt: str | None = None  # None: a message naming the attempt and what went wrong
    #: Chats only: a model config's name, display name or ID (None: the deployment's default).
    model: str | None = None
    #: Chats only: the team's own labels, beside the batch's ownership labels.
    labels: tuple[tuple[str, str], ...] = ()
    origin: Origin | None = None
    #: Which attempt a create makes (not stored: a retry's create sets it, and the task's display
    #: name carries it, see ownership.display_name).
    attempt: int = 1

    @property
    def coder_name(self) -> str:
        """The task's name on the deployment (manifest name plus batch marker)."""
        return ownership.coder_name(self.batch, self.name)

    @property
    def display_name(self) -> str:
        """The display name given on GA servers."""
        return ownership.display_name(self.batch, self.name, self.attempt)

    @property
    def key(self) -> tuple[str, str]:
        """(owner, name): unique within a batch."""
        return (self.owner, self.name)

    def to_data(self) -> dict[str, Any]:
        """The task as plain data (every field but `batch` and `origin`, and `expect` when
        empty), in field order."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in _stored_fields()}
        data["follow_ups"] = list(self.follow_ups)
        # Left out when empty: a plan without expectations is exactly what version 1 wrote.
        expect = data.pop("expect").to_data()
        if expect:
            data["expect"] = expect
        data["labels"] = dict(self.labels)
        # Left out when `keep`, so documents of batches without clean-up stay as they were.
        if self.after == "keep":
            del data["after"]
        data["retry_on"] = list(self.retry_on)
        # Retry fields are written only when retries are asked for, as Chats-only fields below.
        if not self.retries:
            for name in _RETRY_FIELDS:
                del data[name]
        elif self.retry_prompt is None:
            del data["retry_prompt"]
        # Chats-only fields are written only when set, so documents of batches without them
        # stay as they were.
        for name in _CHATS_ONLY:
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_data(cls, batch: str, data: Mapping[str, Any]) -> DesiredTask:
        """The task `to_data` gave; a field the data predates takes its default.

        Raises KeyError for a missing required field and TypeError or ValueError for a value
        of the wrong kind.
        """
        values: dict[str, Any] = {}
        for spec in _stored_fields():
            if spec.name in data:
                values[spec.name] = data[spec.name]
            elif spec.default is MISSING:
                raise KeyError(spec.name)
        for name in ("name", "prompt", "owner", "wait", "on_drift", "after"):
            if name in values and not isinstance(values[name], str):
                raise TypeError(f"{name} is not text")
        for name in ("template", "model"):
            value = values.get(name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} is not text")
        if "follow_ups" in values:
            values["follow_ups"] = tuple(str(f) for f in values["follow_ups"])
        if "expect" in values:
            values["expect"] = Expectations.from_data(values["expect"])
        if values.get("after", "keep") not in AFTER_POLICIES:
            raise ValueError(f"after is not one of {AFTER_POLICIES}")
        values.update(_retry_values(values))
        if "labels" in values:
            values["labels"] = tuple((str(k), str(v)) for k, v in dict(values["labels"]).items())
        for number in (
            "timeout_seconds",
            "idle_grace_seconds",
            "poll_interval_seconds",
            "lost_contact_after_seconds",
        ):
            if number in values:
                values[number] = float(values[number])
        return cls(batch=batch, **values)


#: Fields only a Chats backend takes (a Tasks batch naming one stops at preflight).
_CHATS_ONLY = ("model", "labels")
_RETRY_FIELDS = ("retries", "retry_on", "retry_prompt")


def _stored_fields() -> tuple[Field[Any], ...]:
    return tuple(f for f in fields(DesiredTask) if f.name not in ("batch", "origin", "attempt"))


def _retry_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The retry fields of stored data, checked; TypeError or ValueError for a wrong value."""
    found: dict[str, Any] = {}
    if "retries" in values:
        retries = values["retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 5:
            raise ValueError("retries is not a whole number from 0 to 5")
        found["retries"] = retries
    if "retry_on" in values:
        causes = tuple(str(cause) for cause in values["retry_on"])
        if not causes or any(cause not in RETRY_CAUSES for cause in causes):
            raise ValueError(f"retry_on is not a list of {RETRY_CAUSES}")
        found["retry_on"] = causes
    prompt = values.get("retry_prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise TypeError("retry_prompt is not text")
    return found


@dataclass(frozen=True)
class BatchLimits:
    """Batch-wide bounds from `defaults`: how many tasks work at once, and what the batch may
    spend before it creates or sends nothing more."""

    max_running: int | None = None  # None: no bound beyond --parallelism
    budget_micros: int | None = None  # US dollar micros; None: no budget
    budget_at: Location | None = None  # where `defaults.budget` is, for errors that name it


@dataclass(frozen=True)
class Batch:
    """A loaded manifest: the batch name and its desired tasks in manifest order."""

    name: str
    tasks: tuple[DesiredTask, ...]
    source: str = ""
    backend: str = "auto"  # defaults.backend: one of BACKENDS
    limits: BatchLimits = BatchLimits()
