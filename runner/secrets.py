"""Keeps secrets (session tokens) out of everything `tasks` prints.

The client registers the token it uses; the CLI edge and debug logging pass text through
`redact` before it reaches a terminal or a file.
"""

from __future__ import annotations

_SECRETS: set[str] = set()
MASK = "********"


def register_secret(secret: str | None) -> None:
    """Remember a value that must never be printed. Very short values are not masked."""
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    """Return `text` with every registered secret replaced by a mask."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text
