"""What Coder knows of each result after a run: its pull request, what the agent said last, and
(where the server keeps it) what it cost, unless its cost was read when its run ended.

Backends take these from the item as the last poll saw it where they can; what they must read
is read `parallelism` items at a time, so the reports of a thousand items wait for a few
round trips, not a thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import ApiError, AuthError, TransportError
from runner.execute import record
from runner.execute.results import Outcome, TaskResult
from runner.item import Item, ItemDetails

if TYPE_CHECKING:
    from runner.backends import Backend


def read_details(
    backend: Backend,
    items: Sequence[tuple[TaskResult, Item | None]],
    parallelism: int,
    last_text: Sequence[bool] = (),
) -> list[TaskResult]:
    """Each item's result with its pull request and last message, read once, after the run.

    What cannot be read is left out (`details_read` stays false). A revoked token (AuthError)
    ends the reading. `last_text`, by item: the results whose last message must be the agent's
    own words (see `Backend.details`).
    """
    wanted = [
        (at, result, task)
        for at, (result, task) in enumerate(items)
        # Read already where the run concluded (cleanup.py: before its clean-up).
        if task is not None and result.outcome is not Outcome.DELETED and not result.details_read
    ]
    words = list(last_text) or [False] * len(items)
    results = [result for result, _ in items]
    pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
    try:
        found = pool.map(
            lambda one: read_one(backend, one[2], words[one[0]], one[1].cost is None), wanted
        )
        for (at, result, _), details in zip(wanted, found, strict=True):
            if details is not None:
                results[at] = record.with_details(result, details)
    finally:
        # Stopped (Ctrl-C, a revoked token), the reads not yet begun are dropped.
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def read_one(backend: Backend, task: Item, last_text: bool, cost: bool) -> ItemDetails | None:
    """One item's details (and `cost`, where kept); None where they cannot be read."""
    try:
        details = backend.details(task, last_text=last_text)
        if cost and backend.has_cost:
            details = replace(details, cost=backend.cost(task))
        return details
    except AuthError:
        raise
    except (ApiError, TransportError):
        return None
