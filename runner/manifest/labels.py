"""A team's own chat labels: Coder's label rules (CHATS-CONTRACT section 2), checked before
anything is sent, plus the keys this tool reserves for its ownership labels."""

from __future__ import annotations

import re

#: Coder's key rule (`coderd/httpapi/chatlabels.go`): 1 to 64 bytes of this pattern.
KEY_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/-]*$")
MAX_KEY_BYTES = 64
#: A value is 1 to 256 bytes, any characters.
MAX_VALUE_BYTES = 256
#: Coder takes at most 50 labels per chat; the batch's own ownership labels (`tasks/batch`,
#: `tasks/item`, `tasks/spec`, `tasks/run`, `tasks/follow-ups`) take up to 5 of them.
OWN_LABELS = 5
MAX_LABELS = 50 - OWN_LABELS
#: Keys under this prefix are the batch's ownership labels.
RESERVED_PREFIX = "tasks/"


def key_problem(key: str) -> str | None:
    """Why `key` cannot be a team label, or None."""
    if key.startswith(RESERVED_PREFIX):
        return (
            f"label key {key!r} is reserved: keys under {RESERVED_PREFIX!r} mark what a batch owns"
        )
    if not KEY_PATTERN.match(key):
        return (
            f"label key {key!r}: use letters, digits and . _ / -, starting with a letter or digit "
            "(Coder's label rule)"
        )
    if len(key.encode()) > MAX_KEY_BYTES:
        return f"label key {key!r} is longer than Coder's {MAX_KEY_BYTES} bytes"
    return None


def value_problem(key: str, value: str) -> str | None:
    """Why `value` cannot be the value of label `key`, or None."""
    if not value:
        return f"label {key!r} is empty after rendering"
    size = len(value.encode())
    if size > MAX_VALUE_BYTES:
        return f"label {key!r} is {size} bytes, longer than Coder's {MAX_VALUE_BYTES}"
    return None


def count_problem(count: int) -> str | None:
    """Why a task cannot carry `count` labels of its own, or None."""
    if count > MAX_LABELS:
        return (
            f"{count} labels: Coder takes at most 50 per chat, and the batch's ownership labels "
            f"need {OWN_LABELS}, so at most {MAX_LABELS}"
        )
    return None
