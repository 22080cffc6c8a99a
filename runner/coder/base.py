"""What the Tasks and the Chats clients share: one transport and its lifetime, the deployment's
server info read once on first use, the build info check, and how bodies are decoded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import httpx

from runner.coder import provenance, routes
from runner.coder.config import Connection, no_token_hint
from runner.coder.transport import ApiTransport, RetryPolicy
from runner.errors import (
    ApiError,
    AuthError,
    InvalidInputError,
    NotFoundError,
    UnsupportedServerError,
)
from runner.secrets import TOKEN_REFUSED, holds_token

InfoT = TypeVar("InfoT")
ClientT = TypeVar("ClientT", bound="ClientBase[Any]")


class ClientBase(Generic[InfoT]):
    """One connection to a deployment and what it learnt about the server (`InfoT`)."""

    def __init__(
        self, connection: Connection, *, http: ApiTransport | None = None, **transport_options: Any
    ) -> None:
        """`http`: the transport of the command's other client, so every request of a command
        shares one pacer and one debug log (its owner closes it); else a new one, built from
        `transport_options`: `on_debug`, `max_retries`, a test `transport`, `sleep`, `clock`,
        `jitter`, `max_rate_limit_wait`."""
        self.connection = connection
        self._owns_http = http is None
        self._http = http if http is not None else ApiTransport(connection, **transport_options)
        self._server: InfoT | None = None
        #: Whether every request first learns the server (so an unsupported one fails first).
        self._server_first = True

    @property
    def transport(self) -> ApiTransport:
        """The transport every request of this client goes through (to share with another)."""
        return self._http

    def close(self) -> None:
        """Release the connection pool, unless it is shared from another client's owner."""
        if self._owns_http:
            self._http.close()

    def __enter__(self: ClientT) -> ClientT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server(self) -> InfoT:
        """What the deployment is and serves, learnt on first use and kept."""
        if self._server is None:
            self._server = self._learn_server()
        return self._server

    def _learn_server(self) -> InfoT:
        raise NotImplementedError

    def _buildinfo(self) -> tuple[str, str]:
        """The deployment's version and dashboard URL.

        Raises UnsupportedServerError when the URL does not serve Coder's build info.
        """
        path = routes.BUILDINFO
        not_coder = self._not_coder()
        try:
            response = self._http.request("GET", path)
        except NotFoundError:
            raise UnsupportedServerError(f"{not_coder}: GET {path} answered 404") from None
        try:
            data = decode(response)
        except ApiError:
            data = None
        version = data.get("version") if isinstance(data, Mapping) else None
        if not isinstance(version, str):
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise UnsupportedServerError(
                f"{not_coder}: GET {path} did not return Coder's build info ({kind})"
            )
        assert isinstance(data, Mapping)
        return version, str(data.get("dashboard_url") or "")

    def _not_coder(self, version: str | None = None) -> str:
        """The start of the error for a URL that is no Coder deployment (`version`: what it
        claimed to be)."""
        text = f"{self.connection.url} does not look like a Coder deployment"
        if version is None:
            return text
        return f"{text}: it reports the version {version!r}, which is not a Coder version"

    def _hint_login(self, exc: AuthError) -> None:
        """Tell a user without a token how to get one."""
        if not self._http.has_token:
            exc.details = (*exc.details, no_token_hint(self.connection))

    def _refuse_token(self, what: str, *texts: str) -> None:
        """The last net: text bound for an agent, a label or a title never carries the token."""
        if any(holds_token(text, self.connection.token) for text in texts):
            raise InvalidInputError(f"{what} {TOKEN_REFUSED}")

    def _request(self, method: str, path: str, **request: Any) -> httpx.Response:
        """`ApiTransport.request` with its options (`params`, `body`, `policy`), after learning
        the server (unless `_server_first` is off); a 401 without a token says how to log in."""
        if self._server_first:
            _ = self.server
        try:
            return self._http.request(method, path, **request)
        except AuthError as exc:
            self._hint_login(exc)
            raise

    def workspace_by_owner_and_name(self, owner: str, name: str) -> Mapping[str, Any]:
        """`owner`'s workspace named `name`, not deleted (`codersdk.Workspace`, as
        `GET /workspaces/{workspace}` answers it); NotFoundError when there is none."""
        return self._object("GET", f"{routes.user(owner)}/workspace/{routes.segment(name)}")

    def _object(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        policy: RetryPolicy = RetryPolicy.READ,
    ) -> Mapping[str, Any]:
        data = decode(self._request(method, path, body=body, policy=policy))
        if not isinstance(data, Mapping):
            raise unexpected(200, method, path, "expected a JSON object")
        return data


def decode(response: httpx.Response) -> Any:
    """The JSON body (None when empty), its reads recorded for the field-provenance check.

    Raises ApiError when the body is not JSON.
    """
    if not response.content.strip():
        return None
    try:
        return provenance.observe(response.json(), response)
    except ValueError:
        request = response.request
        raise unexpected(
            response.status_code, request.method, request.url.path, "the body is not JSON"
        ) from None


def unexpected(status: int, method: str, path: str, why: str) -> ApiError:
    """The error for an answer that is not what Coder sends."""
    return ApiError(
        status, f"unexpected response from the deployment: {why}", method=method, path=path
    )
