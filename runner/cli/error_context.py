"""Prefix errors with what was being done, as Coder's CLI wraps them (`resolve task "x": …`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from runner.errors import TasksError


@contextmanager
def error_context(prefix: str) -> Iterator[None]:
    """Re-raise any TasksError from the block with `prefix: ` in front of its message."""
    try:
        yield
    except TasksError as error:
        error.message = f"{prefix}: {error.message}"
        error.args = (error.message,)
        raise
