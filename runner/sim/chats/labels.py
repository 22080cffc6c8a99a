"""Chat labels and the `label=key:value` list filter (CHATS-CONTRACT section 2).

Follows `coderd/httpapi/chatlabels.go` and `listChats` in `coderd/exp_chats.go` at the
contract's HEAD commit: every violation is reported, one validation each.
"""

from __future__ import annotations

import re
from typing import Any

from runner.sim.apierror import ApiError, Validation

MAX_LABELS = 50
MAX_KEY_BYTES = 64
MAX_VALUE_BYTES = 256
KEY_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9._/-]*$"
_KEY = re.compile(KEY_PATTERN)


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def validate_labels(value: Any) -> dict[str, str]:
    """The labels of a create or update body; 400 `Invalid labels.` listing every problem."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError(400, "Request body must be valid JSON.", detail="labels: expected strings")
    labels: dict[str, str] = value
    problems: list[Validation] = []
    if len(labels) > MAX_LABELS:
        problems.append(
            Validation("labels", f"too many labels ({len(labels)}); maximum is {MAX_LABELS}")
        )
    for key in sorted(labels):
        text = labels[key]
        if key == "":
            problems.append(Validation("labels", "label key must not be empty"))
            continue
        quoted = _go_quote(key)
        if len(key.encode()) > MAX_KEY_BYTES:
            problems.append(
                Validation(
                    "labels",
                    f"label key {quoted} exceeds maximum length of {MAX_KEY_BYTES} bytes",
                )
            )
        if not _KEY.match(key):
            problems.append(
                Validation(
                    "labels",
                    f"label key {quoted} contains invalid characters; must match {KEY_PATTERN}",
                )
            )
        if text == "":
            problems.append(Validation("labels", f"label value for key {quoted} must not be empty"))
        if len(text.encode()) > MAX_VALUE_BYTES:
            problems.append(
                Validation(
                    "labels",
                    f"label value for key {quoted} exceeds maximum length of "
                    f"{MAX_VALUE_BYTES} bytes",
                )
            )
    if problems:
        raise ApiError(400, "Invalid labels.", validations=problems)
    return dict(labels)


def parse_label_filter(values: list[str]) -> dict[str, str]:
    """`label=k:v` parameters, split at the first `:`, ANDed; a repeated key keeps the last."""
    wanted: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition(":")
        if not sep or not key or not value:
            raise ApiError(
                400,
                f"Invalid label filter: {_go_quote(raw)} "
                "(expected format key:value, both must be non-empty)",
            )
        wanted[key] = value
    return wanted
