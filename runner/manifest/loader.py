"""From a manifest file to a Batch: read, parse, validate, expand, render, check.

Every problem of the file is collected and raised together as one ManifestError, sorted by
position. A stage runs as far as the earlier stages allow: a task with a schema error is not
rendered, but the other tasks are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from yaml.nodes import ScalarNode, SequenceNode

from runner import defaults
from runner.errors import LocatedError, Location, ManifestError
from runner.manifest import matrix as matrices
from runner.manifest.durations import parse_duration
from runner.manifest.expect import clean_up_allowed, expectations
from runner.manifest.labels import count_problem, key_problem, value_problem
from runner.manifest.model import DEFAULT_RETRY_ON, Batch, BatchLimits, DesiredTask, Origin
from runner.manifest.names import batch_name_problem, owner_problem, task_name_problem
from runner.manifest.schema import schema_problems
from runner.manifest.source import check_source, read_source
from runner.manifest.templating import Namespace, Renderer, TemplateProblem, is_template
from runner.manifest.variables import environment_values
from runner.manifest.wording import kind, one_line, quote, show
from runner.manifest.yamltree import Document, PathPart, parse
from runner.money import parse_usd

#: Rendered fields that are single strings (follow_ups is a list of them).
#: `defaults` keys that set the batch, not its tasks.
BATCH_WIDE = ("backend", "budget", "max_running")
TEXT_FIELDS = (
    "name",
    "prompt",
    "template",
    "template_version",
    "preset",
    "owner",
    "organization",
    "model",
    "retry_prompt",
)
_DURATIONS = {
    "timeout": defaults.TIMEOUT_SECONDS,
    "idle_grace": defaults.IDLE_GRACE_SECONDS,
    "poll_interval": defaults.POLL_INTERVAL_SECONDS,
    "lost_contact_after": defaults.LOST_CONTACT_AFTER_SECONDS,
}
_MUST_BE_POSITIVE = ("timeout", "poll_interval", "lost_contact_after")


def load(
    path: str,
    *,
    variables: Mapping[str, str],
    env_names: Sequence[str],
    environ: Mapping[str, str] | None,
    content: bytes | None = None,
) -> Batch:
    """See `runner.manifest.load_batch`."""
    env = environment_values(env_names, environ)
    text = read_source(path) if content is None else check_source(path, content)
    document, errors = parse(path, text)
    data = document.data
    if errors and data is None:  # nothing usable came out of the parser
        raise ManifestError(_ordered(errors))
    if not isinstance(data, dict):
        message = f"expected a mapping with version, batch and tasks at the top, got {kind(data)}"
        errors.append(document.error([], message))
        raise ManifestError(_ordered(errors))
    problems = schema_problems(document)
    # A value the parser already refused (e.g. an unsupported tag) needs no second message.
    refused = {(e.location.line, e.location.column) for e in errors}
    errors.extend(
        error
        for _, error in problems
        if (error.location.line, error.location.column) not in refused
    )
    bad_paths = [problem_path for problem_path, _ in problems]
    batch_name = data.get("batch")
    if isinstance(batch_name, str) and not any(p[:1] == ["batch"] for p in bad_paths):
        problem = batch_name_problem(batch_name)
        if problem:
            errors.append(document.error(["batch"], problem))
    tasks: list[DesiredTask] = []
    if _tasks_can_be_built(data, bad_paths):
        # A default with a problem is left out, so the tasks still get checked.
        broken_defaults = {p[1] for p in bad_paths if len(p) >= 2 and p[0] == "defaults"}
        builder = _TaskBuilder(document, str(batch_name or ""), variables, env, broken_defaults)
        broken = {p[1] for p in bad_paths if len(p) >= 2 and p[0] == "tasks"}
        for index, entry in enumerate(data["tasks"]):
            if index not in broken:
                tasks.extend(builder.build(index, entry))
        errors.extend(builder.errors)
    if errors:
        raise ManifestError(_ordered(errors))
    backend = str((data.get("defaults") or {}).get("backend") or "auto")
    return Batch(
        name=str(batch_name),
        tasks=tuple(tasks),
        source=path,
        backend=backend,
        limits=_limits(document, data.get("defaults") or {}),
    )


def _limits(document: Document, defaults: Mapping[str, Any]) -> BatchLimits:
    """`defaults.max_running` and `defaults.budget`, which the schema has checked."""
    budget = defaults.get("budget")
    return BatchLimits(
        max_running=defaults.get("max_running"),
        budget_micros=None if budget is None else parse_usd(budget),
        budget_at=None if budget is None else document.location(["defaults", "budget"]),
    )


def _tasks_can_be_built(data: dict[str, Any], bad_paths: Sequence[list[PathPart]]) -> bool:
    """Tasks are built only when the parts every task depends on are sound."""
    if not isinstance(data.get("tasks"), list):
        return False
    return not any(p[:1] == ["vars"] or p in (["tasks"], ["defaults"]) for p in bad_paths)


def _ordered(errors: Sequence[LocatedError]) -> list[LocatedError]:
    # Messages quote user text; this is the net for anything else that brought a line break.
    unique = dict.fromkeys(LocatedError(e.location, one_line(e.message)) for e in errors)
    return sorted(unique, key=lambda e: (e.location.file, e.location.line, e.location.column))


class _TaskBuilder:
    """Turns one `tasks[i]` entry into its desired tasks, collecting every problem."""

    def __init__(
        self,
        document: Document,
        batch: str,
        variables: Mapping[str, str],
        env: Mapping[str, str],
        broken_defaults: set[PathPart],
    ) -> None:
        data: dict[str, Any] = document.data  # type: ignore[assignment]
        self.document = document
        self.batch = batch
        defaults: dict[str, Any] = data.get("defaults") or {}
        # Batch-wide settings are the batch's, not a task's.
        self.defaults = {
            k: v for k, v in defaults.items() if k not in broken_defaults and k not in BATCH_WIDE
        }
        self.broken_defaults = broken_defaults
        self.vars = Namespace("vars", {**(data.get("vars") or {}), **variables})
        self.env = Namespace("env", env)
        self.renderer = Renderer()
        self.no_matrix = Namespace("matrix", {})
        tasks_node = document.node(["tasks"])
        entries = tasks_node.value if isinstance(tasks_node, SequenceNode) else []
        self.task_lines = [entry.start_mark.line + 1 for entry in entries]
        self.errors: list[LocatedError] = []
        # (owner, name) in lower case -> entry index, name and matrix of its first use.
        self.seen: dict[tuple[str, str], tuple[int, str, Mapping[str, object]]] = {}
        self._reported: set[tuple[Location, str]] = set()

    def build(self, index: int, entry: dict[str, Any]) -> list[DesiredTask]:
        here: list[PathPart] = ["tasks", index]
        fields = {**self.defaults, **entry}
        sources: dict[str, list[PathPart]] = {
            key: ["tasks", index] if key in entry else ["defaults"] for key in fields
        }
        # No template is allowed: on Chats the agent then picks its own environment (Tasks
        # preflight refuses it, once the backend is known).
        missing = [key for key in ("prompt",) if key not in fields]
        for key in missing:
            if key not in self.broken_defaults:  # else its problem is already reported
                self.error(here, f'missing "{key}"; set it in this task or in defaults')
        unpinned = []
        if "template" not in fields and "template" not in self.broken_defaults:
            unpinned = [key for key in ("template_version", "preset") if key in fields]
        for key in unpinned:
            self.error(
                [*sources[key], key],
                f"{key} needs a template; set `template` in this task or in defaults",
            )
        durations = self.durations(fields, sources)
        expect = expectations(fields, sources, self.error)
        after_ok = clean_up_allowed(fields, sources, self.error)
        combos = self.combinations(index, entry)
        blind = bool(fields.get("retries")) and fields.get("wait") == "none"
        if blind:
            self.error(
                [*sources["retries"], "retries"],
                "retries need a wait: the task's `wait` is none, so no attempt's end is seen",
            )
        broken = missing or unpinned or blind or not after_ok
        if broken or durations is None or expect is None or combos is None:
            return []
        line = self.task_lines[index] if index < len(self.task_lines) else 1
        built: list[DesiredTask] = []
        for combo in combos:
            task = self.render_task(index, fields, sources, combo, durations, line)
            if task is not None:
                built.append(replace(task, expect=expect))
        return built

    def durations(
        self, fields: Mapping[str, Any], sources: Mapping[str, list[PathPart]]
    ) -> dict[str, float] | None:
        values = dict(_DURATIONS)
        ok = True
        for key in _DURATIONS:
            if key not in fields:
                continue
            try:
                values[key] = parse_duration(fields[key])
            except ValueError as error:
                self.error([*sources[key], key], str(error))
                ok = False
                continue
            if key in _MUST_BE_POSITIVE and values[key] <= 0:
                self.error([*sources[key], key], f"{key} must be longer than 0s")
                ok = False
        return values if ok else None

    def combinations(self, index: int, entry: Mapping[str, Any]) -> list[dict[str, object]] | None:
        matrix = entry.get("matrix")
        if matrix is None:
            return [{}]
        at: list[PathPart] = ["tasks", index, "matrix"]
        problems = matrices.problems(matrix)
        for problem in problems:
            *inner, key = problem.path
            self.error([*at, *inner], problem.message, key=str(key))
        if problems:
            return None
        too_large = matrices.size_problem(matrix)
        if too_large:
            self.error(at, too_large)
            return None
        combos = matrices.expand(matrix)
        if not combos:
            self.error(at, "the matrix has no combinations left (exclude drops every one)")
            return None
        return combos

    def render_task(
        self,
        index: int,
        fields: Mapping[str, Any],
        sources: Mapping[str, list[PathPart]],
        combo: dict[str, object],
        durations: Mapping[str, float],
        line: int,
    ) -> DesiredTask | None:
        matrix = Namespace("matrix", combo) if combo else self.no_matrix
        context = {"vars": self.vars, "matrix": matrix, "env": self.env}
        text, follow_ups, failed = self.render_texts(fields, sources, context, combo)
        if failed:
            if text["name"] is not None and task_name_problem(text["name"]) is None:
                self.check_unique(index, text["owner"] or "me", text["name"], combo)
            return None
        # A block scalar's final line break is YAML's, not part of the message.
        name, prompt = text["name"] or "", (text["prompt"] or "").rstrip("\n")
        follow_ups = [follow_up.rstrip("\n") for follow_up in follow_ups]
        owner = text["owner"] or "me"
        problems = self.text_problems(index, fields, sources, text, follow_ups)
        for path, problem in problems:
            if problem:
                self.check(path, problem, combo)
                failed = True
        if problems[0][1] is None:  # a sound name is checked for uniqueness in any case
            self.check_unique(index, owner, name, combo)
        labels = self.labels(index, context, combo)
        if failed or labels is None:
            return None
        return DesiredTask(
            batch=self.batch,
            name=name,
            prompt=prompt,
            template=text["template"],
            owner=owner,
            template_version=text["template_version"],
            preset=text["preset"],
            organization=text["organization"],
            follow_ups=tuple(follow_ups),
            wait=str(fields.get("wait", "idle")),
            timeout_seconds=durations["timeout"],
            idle_grace_seconds=durations["idle_grace"],
            poll_interval_seconds=durations["poll_interval"],
            lost_contact_after_seconds=durations["lost_contact_after"],
            on_drift=str(fields.get("on_drift", "report")),
            after=str(fields.get("after", "keep")),
            retries=int(fields.get("retries", 0)),
            retry_on=tuple(fields.get("retry_on", DEFAULT_RETRY_ON)),
            retry_prompt=text["retry_prompt"].rstrip("\n") if text["retry_prompt"] else None,
            model=text["model"],
            labels=labels,
            origin=Origin(self.document.file, line, MappingProxyType(combo)),
        )

    def render_texts(
        self,
        fields: Mapping[str, Any],
        sources: Mapping[str, list[PathPart]],
        context: Mapping[str, Namespace],
        combo: dict[str, object],
    ) -> tuple[dict[str, str | None], list[str], bool]:
        """The text fields and follow-ups rendered, and whether any failed to render."""
        failed = False
        text: dict[str, str | None] = {}
        for key in TEXT_FIELDS:
            value = fields.get(key)
            if value is None:
                text[key] = None
                continue
            text[key] = self.render([*sources[key], key], value, context, combo)
            failed = failed or text[key] is None
        follow_ups: list[str] = []
        for number, follow_up in enumerate(fields.get("follow_ups") or []):
            path = [*sources["follow_ups"], "follow_ups", number]
            rendered = self.render(path, follow_up, context, combo)
            failed = failed or rendered is None
            follow_ups.append(rendered or "")
        return text, follow_ups, failed

    def text_problems(
        self,
        index: int,
        fields: Mapping[str, Any],
        sources: Mapping[str, list[PathPart]],
        text: Mapping[str, str | None],
        follow_ups: Sequence[str],
    ) -> list[tuple[list[PathPart], str | None]]:
        """Each rendered text's place and problem (None: sound); the name's comes first."""
        name, prompt = text["name"] or "", (text["prompt"] or "").rstrip("\n")
        problems: list[tuple[list[PathPart], str | None]] = [
            (["tasks", index, "name"], task_name_problem(name))
        ]
        if "owner" in fields:
            problems.append(([*sources["owner"], "owner"], owner_problem(text["owner"] or "me")))
        optional = (
            "template",
            "template_version",
            "preset",
            "organization",
            "model",
            "retry_prompt",
        )
        for key in optional:
            value = text[key]
            if value is not None and not value.strip():
                problems.append(([*sources[key], key], f"{key} is empty after rendering"))
        if not prompt.strip():
            problems.append(([*sources["prompt"], "prompt"], "the prompt is empty"))
        for number, follow_up in enumerate(follow_ups):
            if not follow_up.strip():
                path = [*sources["follow_ups"], "follow_ups", number]
                problems.append((path, "the follow-up is empty"))
        return problems

    def labels(
        self, index: int, context: Mapping[str, Namespace], combo: dict[str, object]
    ) -> tuple[tuple[str, str], ...] | None:
        """The task's own labels, defaults' first (a task's value wins), rendered and held to
        Coder's label rules; None after reporting a problem."""
        entry = self.document.data["tasks"][index]  # type: ignore[index]
        found: dict[str, tuple[list[PathPart], Any]] = {}
        for at, given in (
            (["defaults", "labels"], self.defaults.get("labels")),
            (["tasks", index, "labels"], entry.get("labels")),
        ):
            for key, value in (given or {}).items():
                found[str(key)] = ([*at, key], value)
        labels: list[tuple[str, str]] = []
        ok = True
        for key, (path, value) in found.items():
            rendered = self.render(path, str(value), context, combo)
            problem = key_problem(key) or (
                value_problem(key, rendered) if rendered is not None else None
            )
            self.check(path, problem, combo)
            ok = ok and rendered is not None and problem is None
            labels.append((key, rendered or ""))
        too_many = count_problem(len(labels))
        if too_many:
            self.check(["tasks", index], too_many, combo)
        return tuple(labels) if ok and not too_many else None

    def render(
        self,
        path: list[PathPart],
        value: str,
        context: Mapping[str, Namespace],
        combo: Mapping[str, object],
    ) -> str | None:
        if not is_template(value):
            return value
        try:
            return self.renderer.render(value, context)
        except TemplateProblem as problem:
            location = self.template_location(path, problem.line)
            self.add(LocatedError(location, problem.message + _matrix_note(combo)), problem.message)
            return None

    def template_location(self, path: list[PathPart], line: int | None) -> Location:
        location = self.document.location(path)
        node = self.document.node(path)
        if line is None or not isinstance(node, ScalarNode) or node.style != "|":
            return location
        # A literal block keeps its lines, so the template's line maps onto the file's.
        file_line = node.start_mark.line + 1 + line
        lines = self.document.text.splitlines()
        if file_line > len(lines):
            return location
        text = lines[file_line - 1]
        column = len(text) - len(text.lstrip(" ")) + 1
        return Location(location.file, file_line, column, location.path)

    def check_unique(self, index: int, owner: str, name: str, combo: Mapping[str, object]) -> None:
        key = (owner.lower(), name.lower())
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = (index, name, combo)
            return
        first_index, first_name, first_combo = first
        here = self.document.location(["tasks", index, "name"])
        where = self.document.location(["tasks", first_index, "name"])
        if first_index == index:
            message = (
                f"the matrix gives the name {quote(name)} to more than one combination "
                f"({_values(first_combo)} and {_values(combo)}); put a matrix value in the name"
            )
            self.add(LocatedError(here, message), message)
            return
        rule = f"task names must be unique per owner ({owner}), ignoring case"
        again = f"task name {quote(first_name)} is used again at line {here.line}; {rule}"
        already = f"task name {quote(name)} is already used at line {where.line}; {rule}"
        self.add(LocatedError(where, again), again)
        self.add(LocatedError(here, already), already)

    def check(self, path: list[PathPart], problem: str | None, combo: Mapping[str, object]) -> None:
        if problem:
            location = self.document.location(path)
            self.add(LocatedError(location, problem + _matrix_note(combo)), problem)

    def error(self, path: Sequence[PathPart], message: str, *, key: str | None = None) -> None:
        error = self.document.error(path, message, key=key)
        self.add(error, message)

    def add(self, error: LocatedError, base_message: str) -> None:
        # A default's problem shows once, not once per task or matrix combination.
        signature = (error.location, base_message)
        if signature not in self._reported:
            self._reported.add(signature)
            self.errors.append(error)


def _values(combo: Mapping[str, object]) -> str:
    return ", ".join(f"{show(key)}={show(value)}" for key, value in combo.items()) or "no values"


def _matrix_note(combo: Mapping[str, object]) -> str:
    return f" (matrix: {_values(combo)})" if combo else ""
