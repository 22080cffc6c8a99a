"""A loaded batch as a plain document, for `tasks render` (YAML or JSON)."""

from __future__ import annotations

import json
from typing import Any

from runner.manifest.durations import format_duration
from runner.manifest.model import Batch, DesiredTask


def batch_document(batch: Batch) -> dict[str, Any]:
    """The expanded batch: every task with its coder name, settings, source line and matrix."""
    return {
        "version": 1,
        "batch": batch.name,
        "tasks": [task_document(task) for task in batch.tasks],
    }


#: What a reader looks for first: the task's names and texts, then where it runs; the other
#: fields follow in `DesiredTask.to_data` order.
_LEADING = (
    "name",
    "coder_name",
    "prompt",
    "follow_ups",
    "template",
    "template_version",
    "preset",
    "organization",
)
_SECONDS = "_seconds"


def task_document(task: DesiredTask) -> dict[str, Any]:
    """One desired task as `DesiredTask.to_data` gives it, plus its coder name, source line and
    matrix; durations as the manifest writes them (`timeout: 30m`); unset optional fields left
    out."""
    data = task.to_data()
    data["coder_name"] = task.coder_name
    document: dict[str, Any] = {}
    for key, value in ({key: data.pop(key) for key in _LEADING} | data).items():
        if value is None or value == []:
            continue
        if key.endswith(_SECONDS):
            key, value = key[: -len(_SECONDS)], format_duration(value)
        document[key] = value
    if task.origin is not None:
        document["source"] = f"{task.origin.file}:{task.origin.line}"
        if task.origin.matrix:
            document["matrix"] = dict(task.origin.matrix)
    return document


def to_json(batch: Batch) -> str:
    """The document as indented JSON."""
    return json.dumps(batch_document(batch), indent=2, ensure_ascii=False)


def to_yaml(batch: Batch) -> str:
    """The document as YAML; multi-line text is written as literal blocks."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, text)
    dumped: str = yaml.dump(
        batch_document(batch),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return dumped
