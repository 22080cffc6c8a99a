"""Matrix expansion with the semantics of GitHub Actions' `strategy.matrix`.

The combinations are the cross product of the axes, in the order written, minus every
combination an `exclude` entry matches (an entry matches when all of its keys agree: a partial
match). Then each `include` entry, in order, is added to every original combination whose axis
values it does not change (values added by an earlier include may be overwritten); an entry that
fits no combination becomes a combination of its own. With no axes, each include entry is one
combination.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runner.manifest.wording import quote

Combination = dict[str, object]

#: Most combinations one matrix may expand to (GitHub Actions allows 256 jobs per matrix).
MAX_COMBINATIONS = 256
#: Cross products above this are refused without enumerating them (it would take too long).
_MAX_CROSS_PRODUCT = 65_536


@dataclass(frozen=True)
class MatrixProblem:
    """A mistake in a matrix: the key path inside the matrix, and what is wrong."""

    path: tuple[str | int, ...]
    message: str


def axes_of(matrix: Mapping[str, object]) -> dict[str, Sequence[object]]:
    """The matrix's axes: every key except `include` and `exclude`."""
    return {
        key: values
        for key, values in matrix.items()
        if key not in ("include", "exclude") and isinstance(values, list)
    }


def problems(matrix: Mapping[str, object]) -> list[MatrixProblem]:
    """Mistakes the schema cannot see: excludes naming keys that are not axes."""
    axes = axes_of(matrix)
    found: list[MatrixProblem] = []
    excludes = matrix.get("exclude") or []
    for index, entry in enumerate(excludes if isinstance(excludes, list) else []):
        if not isinstance(entry, dict):
            continue
        for key in entry:
            if key not in axes:
                known = ", ".join(axes) or "none"
                message = (
                    f"exclude names {quote(key)}, which is not an axis of this matrix "
                    f"(axes: {known})"
                )
                found.append(MatrixProblem(("exclude", index, key), message))
    return found


def size_problem(matrix: Mapping[str, object]) -> str | None:
    """Why the matrix is too large to expand, or None; checked before `expand`."""
    product = math.prod(len(values) for values in axes_of(matrix).values())
    if product > _MAX_CROSS_PRODUCT:
        count = f"{product:,} combinations before exclude"
    else:
        total = len(expand(matrix))
        if total <= MAX_COMBINATIONS:
            return None
        count = f"{total:,} combinations"
    return (
        f"the matrix has {count}; a matrix may have at most {MAX_COMBINATIONS} "
        "(split it into several tasks or use fewer values)"
    )


def expand(matrix: Mapping[str, object]) -> list[Combination]:
    """Every combination of the matrix, in GitHub Actions' order."""
    axes = axes_of(matrix)
    excludes = [e for e in _entries(matrix, "exclude")]
    includes = [e for e in _entries(matrix, "include")]
    names = list(axes)
    if names:
        originals = [
            dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())
        ]
    else:
        originals = []
    originals = [c for c in originals if not any(_matches(c, e) for e in excludes)]
    extra: list[Combination] = []
    for entry in includes:
        fitting = [c for c in originals if all(c[k] == v for k, v in entry.items() if k in axes)]
        if fitting:
            for combination in fitting:
                combination.update(entry)
        else:
            extra.append(dict(entry))
    return originals + extra


def _entries(matrix: Mapping[str, object], key: str) -> list[Combination]:
    value = matrix.get(key)
    if not isinstance(value, list):
        return []
    return [dict(entry) for entry in value if isinstance(entry, dict)]


def _matches(combination: Combination, exclude: Combination) -> bool:
    return all(key in combination and combination[key] == value for key, value in exclude.items())
