"""Coder's `q=` search syntax: lowercased, space-separated `key:value` terms with quoting."""

from __future__ import annotations

from collections.abc import Iterable

from runner.sim.apierror import ApiError, Validation


def _split(text: str, delimiter: str, keep_quotes: bool) -> list[str]:
    parts: list[str] = []
    current = ""
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            if keep_quotes:
                current += ch
            continue
        if ch == delimiter and not quoted:
            if current:
                parts.append(current)
            current = ""
            continue
        current += ch
    if current:
        parts.append(current)
    return parts


def parse_search(query: str, *, allowed: Iterable[str], message: str) -> dict[str, str]:
    """Parse `query` into {key: value}; bad terms give 400 `message` with validations.

    Terms without a key are joined with spaces and count as `owner:` (as Coder's task and
    workspace searches do).
    """
    allowed = tuple(allowed)
    values: dict[str, list[str]] = {}
    bare: list[str] = []
    for element in _split(query.lower(), " ", keep_quotes=True):
        if element.startswith(":") or element.endswith(":"):
            detail = f"Query element {_quote(element)} cannot start or end with ':'"
            raise ApiError(400, message, validations=[Validation("q", detail)])
        parts = _split(element, ":", keep_quotes=False)
        if len(parts) == 1:
            bare.append(parts[0])
        elif len(parts) == 2:
            values.setdefault(parts[0], []).append(parts[1])
        else:
            detail = f"Query element {_quote(element)} can only contain 1 ':'"
            raise ApiError(400, message, validations=[Validation("q", detail)])
    if bare:
        values.setdefault("owner", []).append(" ".join(bare))
    problems: list[Validation] = []
    for key, found in values.items():
        if key not in allowed:
            problems.append(Validation(key, f"{_quote(key)} is not a valid query param"))
        elif len(found) > 1:
            problems.append(
                Validation(
                    key,
                    f"Query param {_quote(key)} provided more than once, found {len(found)} "
                    "times. Only provide 1 instance of this query param.",
                )
            )
    if problems:
        raise ApiError(400, message, validations=problems)
    return {key: found[0] for key, found in values.items()}


def _quote(text: str) -> str:
    """Go's %q for the plain strings that reach it here."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
