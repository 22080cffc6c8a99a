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


#: Why a text holding the session token is refused wherever it would reach a server.
TOKEN_REFUSED = (
    "holds the session token, which is never sent to an agent (nor put in a label or title)"
)


def holds_token(text: str, token: str | None) -> bool:
    """Whether `text` contains the session `token` (a short or empty token matches nothing)."""
    return bool(token) and len(token or "") >= 4 and (token or "") in text
