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


def task_document(task: DesiredTask) -> dict[str, Any]:
    """One desired task as plain data; optional fields that are unset are left out."""
    document: dict[str, Any] = {
        "name": task.name,
        "coder_name": task.coder_name,
        "prompt": task.prompt,
    }
    if task.follow_ups:
        document["follow_ups"] = list(task.follow_ups)
    for key in ("template", "template_version", "preset", "organization"):
        value = getattr(task, key)
        if value is not None:
            document[key] = value
    document.update(
        owner=task.owner,
        wait=task.wait,
        timeout=format_duration(task.timeout_seconds),
        idle_grace=format_duration(task.idle_grace_seconds),
        poll_interval=format_duration(task.poll_interval_seconds),
        lost_contact_after=format_duration(task.lost_contact_after_seconds),
        on_drift=task.on_drift,
    )
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
