"""Coder's name rule, applied before any request so a bad name never reaches the server.

Coder (`codersdk.NameValid`, CONTRACT.md 1.3) takes 1 to 32 letters, digits and single hyphens,
not starting or ending with a hyphen, and not `new` or `create`. A batch appends its marker
(`-` and six hex digits) to every task name, so a manifest name may have at most 25 characters.
"""

from __future__ import annotations

import re

from runner import ownership
from runner.manifest.wording import quote

NAME_RULE = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$")
RESERVED_NAMES = ("new", "create")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def task_name_problem(name: str) -> str | None:
    """Why `name` cannot be a manifest task name, or None when it can."""
    if not name:
        return "the task name is empty"
    limit = ownership.MAX_TASK_NAME_LENGTH
    if len(name) > limit:
        marker = ownership.MARKER_LENGTH + 1
        return (
            f"{quote(name)} is {len(name)} characters; task names may have at most {limit} "
            f"because the batch marker takes {marker}"
        )
    reason = _shape_problem(name)
    return (
        f"task name {quote(name)} {reason}; use letters, digits and single hyphens"
        if reason
        else None
    )


def batch_name_problem(name: str) -> str | None:
    """Why `name` cannot name a batch (Coder's name rule, at most 32 characters), or None."""
    if not name:
        return "the batch name is empty"
    if len(name) > ownership.MAX_CODER_NAME_LENGTH:
        return f"{quote(name)} is {len(name)} characters; a batch name may have at most 32"
    reason = _shape_problem(name)
    return (
        f"batch name {quote(name)} {reason}; use letters, digits and single hyphens"
        if reason
        else None
    )


def owner_problem(owner: str) -> str | None:
    """Why `owner` is neither `me`, a UUID nor a Coder username, or None when it is fine."""
    if owner == "me" or _UUID.fullmatch(owner):
        return None
    if len(owner) > ownership.MAX_CODER_NAME_LENGTH:
        return f"owner {quote(owner)} is longer than a Coder username can be (32 characters)"
    reason = _shape_problem(owner)
    return f"owner {quote(owner)} {reason}; use me, a username or a user UUID" if reason else None


def _shape_problem(name: str) -> str | None:
    """What breaks Coder's letters-digits-single-hyphens rule in `name`, or None."""
    if NAME_RULE.fullmatch(name):
        return None
    if name.startswith("-") or name.endswith("-"):
        return "starts or ends with a hyphen"
    if "--" in name:
        return "has two hyphens in a row"
    bad = next(ch for ch in name if not (ch.isascii() and (ch.isalnum() or ch == "-")))
    return f"contains {bad!r}"
