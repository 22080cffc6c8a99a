"""A create refused as "name taken" while nothing by that owner and name is found."""

from __future__ import annotations

import pytest

from runner.backends.conflicts import NameConflicts
from runner.errors import ConflictError, NameContradictionError, NotFoundError

REFUSED = ConflictError(409, 'Workspace "nightly-auth" already exists.')
MISSING = NotFoundError(404, "Resource not found or you do not have access to this resource")


def nothing() -> object:
    raise MISSING


def test_the_refusal_stands_until_the_last_try_then_both_answers_fail_the_item() -> None:
    conflicts = NameConflicts(tries=3)
    for _ in range(2):
        with pytest.raises(ConflictError) as again:
            conflicts.holder(REFUSED, "admin", "nightly-auth", nothing)
        assert again.value is REFUSED  # the executor tries again later
    with pytest.raises(NameContradictionError) as failed:
        conflicts.holder(REFUSED, "admin", "nightly-auth", nothing)
    assert failed.value.message == (
        'Coder refused to create admin/nightly-auth as taken (409 "Workspace "nightly-auth" '
        'already exists."), yet found nothing by that owner and name (404 "Resource not found '
        'or you do not have access to this resource"), 3 times in a row'
    )


def test_a_holder_found_ends_the_count_and_is_returned() -> None:
    conflicts = NameConflicts(tries=2)
    with pytest.raises(ConflictError):
        conflicts.holder(REFUSED, "admin", "a", nothing)
    assert conflicts.holder(REFUSED, "admin", "a", lambda: "workspace") == "workspace"
    with pytest.raises(ConflictError) as again:  # counted afresh: one contradiction so far
        conflicts.holder(REFUSED, "admin", "a", nothing)
    assert not isinstance(again.value, NameContradictionError)


def test_names_are_counted_apart() -> None:
    conflicts = NameConflicts(tries=2)
    with pytest.raises(ConflictError):
        conflicts.holder(REFUSED, "admin", "a", nothing)
    with pytest.raises(ConflictError) as other:
        conflicts.holder(REFUSED, "admin", "b", nothing)
    assert not isinstance(other.value, NameContradictionError)
    with pytest.raises(NameContradictionError):
        conflicts.holder(REFUSED, "Admin", "A", nothing)  # Coder's names ignore case
