"""The Coder Agents (Chats) API client, from v2.32 to the current releases.

It negotiates the route prefix once by probing (`/api/v2/chats`, then `/api/experimental/chats`;
CHATS-CONTRACT section 4), and goes through the same `ApiTransport` as the Tasks client: retries,
rate limits, auth and debug lines. Writes are never repeated blindly; a lost create or send
raises `UncertainOutcomeError`, and the caller looks for it by labels or prompts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from runner.coder import routes
from runner.coder.base import ClientBase, decode, unexpected
from runner.coder.chat_model_configs import ChatModelConfig, configs_from_list, configs_from_org
from runner.coder.chat_models import (
    ARCHIVABLE_STATUSES,
    Chat,
    ChatCost,
    ChatMessage,
    MessagesPage,
    PinnedWorkspace,
    Prompt,
    SendResult,
)
from runner.coder.chat_server import EXPERIMENTAL_PREFIX, V2_PREFIX, ChatServerInfo
from runner.coder.config import Connection
from runner.coder.errors import (
    is_agents_experiment_gate,
    is_route_not_found,
)
from runner.coder.models import User
from runner.coder.transport import RetryPolicy
from runner.coder.version import parse_version
from runner.errors import (
    ApiError,
    AuthError,
    ChatsUnavailableError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnsupportedServerError,
)

#: Page size of the chat list when following every page. Coder's chat list has no upper bound
#: on `limit` (any positive int32; CHATS-CONTRACT 1.5), so a batch of up to 999 chats is one
#: request per poll and 1,000 to 1,999 at most three, well within its per-path rate limit.
LIST_PAGE_SIZE = 1000
#: Page size of the message history (the server allows 1 to 200).
HISTORY_PAGE_SIZE = 200
#: Creates, sends and archives are never repeated blindly.
WRITE = RetryPolicy.WRITE
#: Coder's answer to archiving an archived chat (CHATS-CONTRACT 1.9).
ALREADY_ARCHIVED_MESSAGE = "Chat is already archived."


class ChatsClient(ClientBase[ChatServerInfo]):
    """Typed access to a deployment's Chats API. Construct it like `CoderClient`.

    `server` is the build info plus the negotiated prefix; learning it raises
    ChatsUnavailableError when no prefix answers.
    """

    def __init__(self, connection: Connection, **transport_options: Any) -> None:
        """`transport_options` go to `ApiTransport` (see `ClientBase`)."""
        super().__init__(connection, **transport_options)
        self._organization_id: str | None = None

    # -- negotiation ------------------------------------------------------------------------

    def _learn_server(self) -> ChatServerInfo:
        try:
            return self._probe()
        except AuthError as exc:
            self._hint_login(exc)
            raise

    def _probe(self) -> ChatServerInfo:
        version, dashboard = self._buildinfo()
        try:
            major, minor, patch = parse_version(version)
        except ValueError:
            raise UnsupportedServerError(self._not_coder(version)) from None
        shown = f"v{major}.{minor}.{patch}"
        prefix = V2_PREFIX
        try:
            self._http.request("GET", V2_PREFIX, params={"limit": "1"})
        except NotFoundError:
            prefix = EXPERIMENTAL_PREFIX
            try:
                self._http.request("GET", EXPERIMENTAL_PREFIX, params={"limit": "1"})
            except ForbiddenError as exc:
                if not is_agents_experiment_gate(exc):
                    raise
                raise ChatsUnavailableError(
                    f"this deployment (Coder {shown}) serves Coder Agents (Chats) only with the "
                    "'agents' experiment, which is off: an administrator can enable it with "
                    "CODER_EXPERIMENTS=agents"
                ) from None
            except NotFoundError as exc:
                if not is_route_not_found(exc):
                    raise
                raise ChatsUnavailableError(
                    f"this deployment (Coder {shown}) has no Chats API (Coder Agents): it "
                    "arrived in Coder v2.32"
                ) from None
        return ChatServerInfo(version, major, minor, patch, prefix, dashboard)

    # -- users and organizations ------------------------------------------------------------

    def me(self) -> User:
        """The user the token belongs to: every chat this client creates belongs to them."""
        return User.from_json(self._object("GET", routes.USERS_ME))

    def default_organization_id(self) -> str:
        """The token user's default organization (else their first by name), for create."""
        if self._organization_id is None:
            data = decode(self._request("GET", routes.MY_ORGANIZATIONS))
            orgs = [o for o in data or [] if isinstance(o, Mapping)]
            if not orgs:
                raise InvalidInputError("the token's user belongs to no organization")
            orgs.sort(key=lambda o: (o.get("is_default") is not True, str(o.get("name"))))
            self._organization_id = str(orgs[0].get("id"))
        return self._organization_id

    # -- models -------------------------------------------------------------------------------

    def model_configs(self, organization_id: str | None = None) -> list[ChatModelConfig]:
        """The model configs the token's user may use (CHATS-CONTRACT 7.3): the organization's
        (default: the user's default one) from v2.37, the deployment's `model-configs` before."""
        if self.server.organization_models:
            org = organization_id or self.default_organization_id()
            path = f"{routes.organization(org)}/chats/models"
            return configs_from_org(decode(self._request("GET", path)))
        path = f"{EXPERIMENTAL_PREFIX}/model-configs"
        data = decode(self._request("GET", path))
        return configs_from_list(data, provider_ids=self.server.model_provider_ids)

    # -- chats --------------------------------------------------------------------------------

    def create_chat(
        self,
        prompt: str,
        *,
        organization_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        workspace_id: str | None = None,
        title: str | None = None,
        model_config_id: str | None = None,
        owner_id: str | None = None,
    ) -> Chat:
        """Create a chat with `prompt` as its first message (201). Never repeated blindly.

        `title` is sent to v2.39+ only (nothing depends on it: older releases name the chat
        after the prompt); `owner_id` (another owner) needs v2.38+.
        """
        self._refuse_token(
            "the chat's prompt, labels or title", prompt, title or "", *(labels or {}).values()
        )
        server = self.server
        if owner_id and not server.supports_owner_id:
            raise UnsupportedServerError(
                f"a chat for another owner needs Coder v2.38 or later; this deployment runs "
                f"Coder {server.short_version}"
            )
        body: dict[str, Any] = {}
        # Required from v2.33 (CHATS-CONTRACT 7.1); v2.32 ignores the unknown field.
        body["organization_id"] = organization_id or self.default_organization_id()
        body["content"] = [{"type": "text", "text": prompt}]
        if workspace_id:
            body["workspace_id"] = workspace_id
        if model_config_id:
            body["model_config_id"] = model_config_id
        if labels:
            body["labels"] = dict(labels)
        if title and server.supports_title:
            body["title"] = title
        if owner_id:
            body["owner_id"] = owner_id
        return Chat.from_json(self._object("POST", server.prefix, body=body, policy=WRITE), server)

    def list_chats(
        self,
        *,
        labels: Mapping[str, str] | None = None,
        archived: bool = False,
        page_size: int = LIST_PAGE_SIZE,
    ) -> list[Chat]:
        """Every root chat of the token's user carrying all `labels`, following every page.

        The list is ordered by `updated_at`, which moves while we page: a chat updated meanwhile
        jumps to the head, behind the cursor. So a second pass re-reads the head until it reaches
        chats older than the newest one the first pass saw; it usually costs one request.
        """
        found: dict[str, Chat] = {}
        horizon = None
        pages = 0
        for page in self._pages(labels, archived, page_size):
            if horizon is None and page:
                horizon = max((c.updated_at for c in page if c.updated_at), default=None)
            pages += 1 if page else 0
            found.update((c.id, c) for c in page)
        if horizon is None or pages == 1:
            # One page is one query: nothing can have moved behind a cursor.
            return _newest_first(found.values())
        for page in self._pages(labels, archived, page_size):
            found.update((c.id, c) for c in page)
            if any(c.updated_at is not None and c.updated_at < horizon for c in page):
                break
        return _newest_first(found.values())

    def _pages(
        self, labels: Mapping[str, str] | None, archived: bool, page_size: int
    ) -> Iterator[list[Chat]]:
        """The pages of one pass over the list, by `after_id` cursor."""
        seen: set[str] = set()
        after = ""
        while True:
            pairs: list[tuple[str, str]] = [("q", f"archived:{str(archived).lower()}")]
            pairs += [("label", f"{k}:{v}") for k, v in sorted((labels or {}).items())]
            pairs.append(("limit", str(page_size)))
            if after:
                pairs.append(("after_id", after))
            data = decode(self._request("GET", f"{self.server.prefix}?{urlencode(pairs)}"))
            if data is None:
                data = []  # Go encodes an empty slice as null
            if not isinstance(data, list):
                raise unexpected(200, "GET", self.server.prefix, "expected a JSON array of chats")
            rows = [Chat.from_json(c, self.server) for c in data if isinstance(c, Mapping)]
            fresh = [c for c in rows if c.id not in seen]
            seen.update(c.id for c in fresh)
            # v2.32 lists sub-agent chats as rows too (CHATS-CONTRACT 7.5); later releases
            # only root chats, with their sub-agents under `children`.
            yield [c for c in rows if c.parent_chat_id is None]
            if len(rows) < page_size or not fresh:
                return
            after = rows[-1].id

    def get_chat(self, chat_id: str) -> Chat:
        """One chat by UUID."""
        return Chat.from_json(self._object("GET", self._chat(chat_id)), self.server)

    def messages(
        self,
        chat_id: str,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> MessagesPage:
        """One page of history: newest first, or ascending with `after_id` alone."""
        params: dict[str, str] = {}
        if before_id:
            params["before_id"] = str(before_id)
        if after_id:
            params["after_id"] = str(after_id)
        if limit:
            params["limit"] = str(limit)
        path = f"{self._chat(chat_id)}/messages"
        data = decode(self._request("GET", path, params=params or None))
        if not isinstance(data, Mapping):
            raise unexpected(200, "GET", path, "expected a messages object")
        return MessagesPage(
            messages=_messages(data.get("messages")),
            queued=_messages(data.get("queued_messages"), queued=True),
            has_more=data.get("has_more") is True,
        )

    def history(self, chat_id: str) -> list[ChatMessage]:
        """The whole conversation, oldest first, following `before_id` pages."""
        newest_first: list[ChatMessage] = []
        before: int | None = None
        while True:
            page = self.messages(chat_id, before_id=before, limit=HISTORY_PAGE_SIZE)
            newest_first += page.messages
            if not page.has_more or not page.messages:
                return list(reversed(newest_first))
            before = min(m.id for m in page.messages)

    def prompts(self, chat_id: str, *, limit: int | None = None) -> list[Prompt]:
        """The user's prompts in the chat, newest first (v2.34+)."""
        if not self.server.supports_prompts:
            raise UnsupportedServerError(
                f"listing a chat's prompts needs Coder v2.34 or later; this deployment runs "
                f"Coder {self.server.short_version}"
            )
        path = f"{self._chat(chat_id)}/prompts"
        params = {"limit": str(limit)} if limit else None
        data = decode(self._request("GET", path, params=params))
        items = data.get("prompts") if isinstance(data, Mapping) else None
        return [
            Prompt(int(p.get("id") or 0), str(p.get("text") or ""))
            for p in items or []
            if isinstance(p, Mapping)
        ]

    def cost(self, chat_id: str) -> ChatCost:
        """What the chat and its sub-agents cost so far (v2.36+)."""
        if not self.server.supports_cost:
            raise UnsupportedServerError(
                f"reading a chat's cost needs Coder v2.36 or later; this deployment runs "
                f"Coder {self.server.short_version}"
            )
        return ChatCost.from_json(self._object("GET", f"{self._chat(chat_id)}/cost"))

    def send_message(
        self,
        chat_id: str,
        text: str,
        *,
        busy_behavior: str = "queue",
        model_config_id: str | None = None,
    ) -> SendResult:
        """A follow-up: inserted at once when the chat is idle, else queued (at most 20).

        `model_config_id` runs this turn and later ones on that model (CHATS-CONTRACT 7.3);
        None keeps the chat's current model.
        """
        self._refuse_token("the message", text)
        body: dict[str, Any] = {
            "content": [{"type": "text", "text": text}],
            "busy_behavior": busy_behavior,
        }
        if model_config_id:
            body["model_config_id"] = model_config_id
        path = f"{self._chat(chat_id)}/messages"
        return SendResult.from_json(self._object("POST", path, body=body, policy=WRITE))

    def unqueue(self, chat_id: str, queued_id: int) -> None:
        """Withdraw a queued message (CHATS-CONTRACT 1.10); one promoted meanwhile stays."""
        path = f"{self._chat(chat_id)}/queue/{queued_id}"
        with contextlib.suppress(NotFoundError):  # newer Coder: 404 once it is gone
            self._request("DELETE", path, policy=RetryPolicy.DELETE)

    def interrupt(self, chat_id: str) -> Chat:
        """Stop the agent's current turn (the workspace keeps running)."""
        path = f"{self._chat(chat_id)}/interrupt"
        return Chat.from_json(self._object("POST", path, policy=WRITE), self.server)

    def set_labels(self, chat_id: str, labels: Mapping[str, str]) -> None:
        """Replace the chat's labels whole (`PATCH`; CHATS-CONTRACT 1.9 and 2)."""
        self._request("PATCH", self._chat(chat_id), body={"labels": dict(labels)}, policy=WRITE)

    def archive(self, chat_id: str) -> None:
        """Archive (Chats have no delete): `PATCH archived:true`. 409 while active on v2.35+."""
        self._request("PATCH", self._chat(chat_id), body={"archived": True}, policy=WRITE)

    def archive_settled(self, chat_id: str) -> None:
        """Archive a chat whose turn is stopped; an archive whose answer was lost counts as done.

        Raises ConflictError while Coder still interrupts it (`is_archive_of_active_chat`);
        `runner.readiness.retire_chat` waits that out for `tasks delete`; a batch's run (retiring
        a duplicate, deleting, cleaning up) asks again as a step of its own.
        """
        try:
            self.archive(chat_id)
        except ApiError as error:
            if error.status == 400 and error.api_message == ALREADY_ARCHIVED_MESSAGE:
                return  # an earlier archive whose answer was lost did it
            raise

    def stop_turn(self, chat: Chat) -> None:
        """Interrupt `chat`, and each of its sub-agents, unless archivable as it is or already
        being interrupted: Coder archives a root only when its whole family is `waiting` or
        `error` (CHATS-CONTRACT 7.2), and an interrupt stops one chat only (`InterruptChat`,
        coderd/x/chatd/chatd.go, erickirt/coder c9a1e2bce)."""
        for member in (chat, *chat.children):
            if member.status in ARCHIVABLE_STATUSES or member.status == "interrupting":
                continue
            # A 409 here: it stopped on its own meanwhile, so nothing is left to interrupt.
            with contextlib.suppress(ConflictError):
                self.interrupt(member.id)

    # -- workspaces that pin a template version and preset ---------------------------------

    def create_workspace(
        self,
        name: str,
        template_version_id: str,
        *,
        owner: str = "me",
        preset_id: str | None = None,
    ) -> PinnedWorkspace:
        """Create a workspace to bind a chat to (CHATS-CONTRACT 3). Never repeated blindly."""
        body: dict[str, Any] = {"name": name, "template_version_id": template_version_id}
        if preset_id:
            body["template_version_preset_id"] = preset_id
        path = f"{routes.user(owner)}/workspaces"
        return PinnedWorkspace.from_json(self._object("POST", path, body=body, policy=WRITE))

    def get_workspace(self, workspace_id: str) -> PinnedWorkspace:
        """A workspace by id."""
        path = f"/api/v2/workspaces/{routes.segment(workspace_id)}"
        return PinnedWorkspace.from_json(self._object("GET", path))

    def workspace_by_name(self, owner: str, name: str) -> PinnedWorkspace | None:
        """`owner`'s workspace named `name` (not deleted), or None: adopts a lost create."""
        try:
            return PinnedWorkspace.from_json(self.workspace_by_owner_and_name(owner, name))
        except NotFoundError:
            return None

    def workspaces_of(self, owner: str) -> list[PinnedWorkspace]:
        """`owner`'s workspaces (not deleted): `GET /api/v2/workspaces?q=owner:<owner>`."""
        data = self._object("GET", f"/api/v2/workspaces?{urlencode({'q': f'owner:{owner}'})}")
        items = data.get("workspaces")
        return [PinnedWorkspace.from_json(w) for w in items or [] if isinstance(w, Mapping)]

    def delete_workspace(self, workspace_id: str) -> None:
        """Start a delete build (archiving a chat leaves its workspace alone)."""
        self._build(workspace_id, "delete")

    def stop_workspace(self, workspace_id: str) -> None:
        """Start a stop build: archiving or finishing a chat never stops its workspace
        (CHATS-CONTRACT 7.4)."""
        self._build(workspace_id, "stop")

    def _build(self, workspace_id: str, transition: str) -> None:
        path = f"/api/v2/workspaces/{routes.segment(workspace_id)}/builds"
        self._request("POST", path, body={"transition": transition}, policy=WRITE)

    # -- internals --------------------------------------------------------------------------

    def _chat(self, chat_id: str) -> str:
        return f"{self.server.prefix}/{routes.segment(chat_id)}"


def _newest_first(chats: Iterable[Chat]) -> list[Chat]:
    return sorted(chats, key=lambda c: (c.updated_at is None, c.updated_at, c.id), reverse=True)


def _messages(value: Any, *, queued: bool = False) -> tuple[ChatMessage, ...]:
    items: Sequence[Any] = value if isinstance(value, list) else []
    return tuple(ChatMessage.from_json(m, queued=queued) for m in items if isinstance(m, Mapping))
