"""Session tokens, found where Coder looks for them, checked as Coder checks them."""

from __future__ import annotations

from collections.abc import Mapping
from http.cookies import SimpleCookie

from runner.sim.apierror import ApiError
from runner.sim.directory import Directory, SimUser

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
TOKEN_NAME = "coder_session_token"


def find_token(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The token in Coder's order: cookie, query, header, bearer, `access_token` query."""
    cookie_header = headers.get("cookie", "")
    if cookie_header:
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(cookie_header)
        except Exception:  # a malformed cookie header is simply no cookie
            cookie = SimpleCookie()
        if TOKEN_NAME in cookie and cookie[TOKEN_NAME].value:
            return cookie[TOKEN_NAME].value
    if query.get(TOKEN_NAME):
        return query[TOKEN_NAME]
    if headers.get("coder-session-token"):
        return headers["coder-session-token"]
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer ") and authorization[7:].strip():
        return authorization[7:].strip()
    return query.get("access_token", "")


def authenticate(directory: Directory, token: str) -> SimUser:
    """The user a token belongs to; 401 with Coder's message and detail otherwise."""
    if not token:
        raise ApiError(
            401,
            SIGNED_OUT,
            detail=f'Cookie "{TOKEN_NAME}" or query parameter must be provided.',
        )
    token_id, sep, secret = token.partition("-")
    if not sep or len(token_id) != 10 or len(secret) != 22:
        raise ApiError(
            401,
            SIGNED_OUT,
            detail='Invalid API key format: expected "<10-character id>-<22-character secret>".',
        )
    user = directory.user_by_token_id(token_id)
    if user is None:
        raise ApiError(401, SIGNED_OUT, detail="API key is invalid.")
    if secret != user.token_secret:
        raise ApiError(401, SIGNED_OUT, detail="API key secret is invalid.")
    return user
