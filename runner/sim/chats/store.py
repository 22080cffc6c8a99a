"""The chat store and every chat operation, following CHATS-CONTRACT sections 1 and 2.

Operations take the authenticated caller and decoded arguments and return JSON-ready values or
raise `ApiError`; HTTP lives in `runner.sim.chats.routes`. One lock guards the store; each
operation first settles the chats it touches (`ChatRecord.advance`).
"""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from runner.sim.apierror import ApiError, Validation, not_found
from runner.sim.chats import capacity as pools
from runner.sim.chats.capacity import Capacity
from runner.sim.chats.chat_json import chat_json, message_json, queued_json
from runner.sim.chats.directives import parse_chat_directives, plain_text
from runner.sim.chats.generation import ChatGeneration
from runner.sim.chats.labels import parse_label_filter, validate_labels
from runner.sim.chats.models import cost_json, default_configs
from runner.sim.chats.record import MAX_QUEUED, ChatRecord, QueuedMessage
from runner.sim.clock import SimClock
from runner.sim.directory import Directory, SimUser
from runner.sim.search import _quote, _split
from runner.sim.task_record import is_uuid
from runner.sim.workspace import Workspace

#: `limit` of the chat list when 0 or omitted (the SQL default).
DEFAULT_PAGE = 50
#: Search keys of `q` on the chat list, by the release that added them (CHATS-CONTRACT 1.5 and
#: 7.5: v2.32 knows only `archived`; `pr`, `repo`, `pr_title` v2.34; `source` v2.35; `search`
#: v2.36; `status` is GA's (1.5), here from v2.37). The others are main's of 2026-04-20.
_SEARCH_KEYS: tuple[tuple[tuple[int, int], tuple[str, ...]], ...] = (
    ((2, 32), ("archived",)),
    ((2, 33), ("title", "has_unread", "pr_status", "diff_url")),
    ((2, 34), ("pr", "repo", "pr_title")),
    ((2, 35), ("source",)),
    ((2, 36), ("search",)),
    ((2, 37), ("status",)),
)
_GA_STATUSES = ("waiting", "running", "error", "requires_action", "interrupting")
SYSTEM_PROMPT_LIMIT = 10_000
#: Seconds between two turn-starting writes on a capped deployment (see `ChatStore._stamp`).
STAMP_STEP = 1e-5


class ChatStore:
    """Chats of one simulated deployment, readable by several request threads at once."""

    def __init__(
        self,
        gen: ChatGeneration,
        directory: Directory,
        clock: SimClock,
        rng: random.Random,
        workspaces: list[Workspace],
        capacity: Capacity | None = None,
        request_price_micros: int = 0,
    ) -> None:
        self.gen = gen
        #: Concurrent-agent caps (CHATS-CONTRACT 7.4); None: every turn is worked on at once.
        self.capacity = capacity
        self._last_stamp = float("-inf")
        #: What the AI Gateway charges per model request (CHATS-CONTRACT 7.4): a deployment
        #: setting, 0 by default (nothing priced).
        self.request_price_micros = request_price_micros
        self.directory = directory
        self.clock = clock
        self.rng = rng
        self.workspaces = workspaces  # shared with the task store: one deployment
        self.lock = threading.Lock()
        self.chats: list[ChatRecord] = []
        self.model_config_id = self._uuid()
        self.models = default_configs([self._uuid(), self.model_config_id, self._uuid()])
        self._message_ids = itertools.count(1)
        self._queue_ids = itertools.count(1)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _next_id(self) -> int:
        return next(self._message_ids)

    def _settle(self, chat: ChatRecord, now: float) -> None:
        if self.capacity is None:
            chat.advance(now, self.clock, self._next_id)
        else:  # a turn ending anywhere may start this chat's: settle the deployment
            pools.settle(self.chats, now, self.capacity, self.clock, self._next_id)

    def _stamp(self, now: float) -> float:
        """`now` for a write that starts a turn. Coder stamps rows with the database's NOW(), in
        microseconds, and orders the capacity queue by that `updated_at` (capacity.py): two
        creates never share a stamp, though a stepped test clock stands still between them."""
        if self.capacity is not None:
            now = max(now, self._last_stamp + STAMP_STEP)
            self._last_stamp = now
        return now

    @property
    def _hold(self) -> bool:
        """New turns wait for a capacity slot (admitted by the next settle)."""
        return self.capacity is not None

    def _status(self, chat: ChatRecord, now: float) -> str:
        self._settle(chat, now)
        return chat.status(now, state_refactor=self.gen.state_refactor, clock=self.clock)

    def _json(self, chat: ChatRecord, now: float) -> dict[str, Any]:
        return chat_json(
            self.gen, self.directory, chat, self._status(chat, now), self._children(chat, now)
        )

    def _children(
        self,
        chat: ChatRecord,
        now: float,
        families: Mapping[str, list[ChatRecord]] | None = None,
    ) -> tuple[dict[str, Any], ...]:
        """The sub-agent chats under a root chat, with its archived state (CHATS-CONTRACT 1.6);
        `families` (`_families()`) spares a list a scan of every chat per chat listed."""
        found = (self._families() if families is None else families).get(chat.id, [])
        return tuple(
            chat_json(self.gen, self.directory, child, self._status(child, now))
            for child in found
            if child.archived == chat.archived
        )

    def _families(self) -> dict[str, list[ChatRecord]]:
        """Each root chat's id: its sub-agent chats, in creation order."""
        families: dict[str, list[ChatRecord]] = {}
        for child in self.chats:
            if child.parent_id:
                families.setdefault(child.parent_id, []).append(child)
        return families

    def cost(self, caller: SimUser, chat_ref: str) -> dict[str, Any]:
        """`GET {P}/{chat}/cost`: the chat's requests and its sub-agents' (CHATS-CONTRACT 7.4)."""
        chat = self.find(caller, chat_ref)
        now = self.clock.now()
        family = [chat, *(c for c in self.chats if c.parent_id == chat.id)]
        for member in family:
            self._settle(member, now)
        requests = sum(member.requests for member in family)
        return cost_json(chat.id, requests, self.request_price_micros)

    def find(self, caller: SimUser, chat_ref: str) -> ChatRecord:
        """`{chat}`: a UUID only; 400 otherwise, 404 for unknown or unreadable chats."""
        if not is_uuid(chat_ref):
            length = len(chat_ref)
            detail = f"invalid UUID length: {length}" if length != 36 else "invalid UUID format"
            raise ApiError(400, f'Invalid UUID "{chat_ref}".', detail=detail)
        wanted = chat_ref.lower()
        for chat in self.chats:
            if chat.id == wanted and chat.owner_id == caller.id:
                return chat
        raise not_found()

    # -- list ------------------------------------------------------------------------------

    def list_chats(
        self, caller: SimUser, query: dict[str, str], labels: list[str]
    ) -> list[dict[str, Any]]:
        """`GET {P}`: the caller's root chats, filtered, newest update first, one page."""
        terms = self._search(query.get("q", ""))
        wanted = parse_label_filter(labels) if labels else {}
        limit, offset, after_id = _pagination(query)
        archived = terms.get("archived", "false") == "true"
        now = self.clock.now()
        with self.lock:
            found: list[tuple[ChatRecord, str]] = []
            for chat in self.chats:
                if chat.owner_id != caller.id or chat.archived != archived:
                    continue
                if chat.parent_id and self.gen.root_only_list:
                    continue  # CHATS-CONTRACT 7.5: v2.32 lists sub-agent chats too
                if any(chat.labels.get(k) != v for k, v in wanted.items()):
                    continue
                if "title" in terms and terms["title"].lower() not in chat.title.lower():
                    continue
                status = self._status(chat, now)
                if "status" in terms and status not in terms["status"].split(","):
                    continue
                found.append((chat, status))
            found.sort(key=lambda pair: (pair[0].updated_at, pair[0].id), reverse=True)
            if after_id:
                ids = [chat.id for chat, _ in found]
                found = found[ids.index(after_id) + 1 :] if after_id in ids else []
            page = found[offset : offset + (limit or DEFAULT_PAGE)]
            families = self._families()
            return [
                chat_json(
                    self.gen, self.directory, chat, status, self._children(chat, now, families)
                )
                for chat, status in page
            ]

    def _search(self, query: str) -> dict[str, str]:
        message = "Invalid chat search query."
        allowed = [
            key
            for (major, minor), keys in _SEARCH_KEYS
            if self.gen.version.at_least(major, minor)
            for key in keys
        ]
        values: dict[str, str] = {}
        for element in _split(query, " ", keep_quotes=True):
            if element.startswith(":") or element.endswith(":"):
                detail = f"Query element {_quote(element)} cannot start or end with ':'"
                raise ApiError(400, message, validations=[Validation("q", detail)])
            parts = _split(element, ":", keep_quotes=False)
            if len(parts) == 1:
                detail = f"unsupported search term: {_quote(element)}"
                raise ApiError(400, message, validations=[Validation("q", detail)])
            if len(parts) > 2:
                detail = f"Query element {_quote(element)} can only contain 1 ':'"
                raise ApiError(400, message, validations=[Validation("q", detail)])
            values[parts[0].lower()] = parts[1]
        unknown = [k for k in values if k not in allowed]
        if unknown:
            raise ApiError(
                400,
                message,
                validations=[
                    Validation(k, f"{_quote(k)} is not a valid query param") for k in unknown
                ],
            )
        if "archived" in values and values["archived"] not in ("true", "false"):
            raise ApiError(
                400,
                message,
                validations=[
                    Validation(
                        "archived",
                        f'Query param "archived" must be a valid boolean: {values["archived"]}',
                    )
                ],
            )
        return values

    # -- create ----------------------------------------------------------------------------

    def create(self, caller: SimUser, body: dict[str, Any]) -> dict[str, Any]:
        """`POST {P}` (201): the checks of CHATS-CONTRACT 1.3 in order, then a running turn."""
        gen = self.gen
        org_id = ""
        if gen.org_scoped:
            org_id = _uuid_field(body, "organization_id")
            if not org_id:
                raise ApiError(400, "organization_id is required.")
            if org_id not in caller.org_ids:
                raise ApiError(403, "You are not a member of the specified organization.")
        text = _content(body.get("content"), required=not gen.ga)
        labels = validate_labels(body.get("labels"))
        system_prompt = body.get("system_prompt")
        if isinstance(system_prompt, str) and len(system_prompt) > SYSTEM_PROMPT_LIMIT:
            raise ApiError(400, "System prompt exceeds maximum length.")
        model = self._model(body)
        owner = caller
        title = ""
        if gen.create_owner_id:  # CHATS-CONTRACT 7.5; older releases ignore the field
            owner_ref = _uuid_field(body, "owner_id")
            if owner_ref and owner_ref != caller.id:
                other = self.directory.find_user(owner_ref)
                if other is None or not caller.owner:
                    raise ApiError(403, "Forbidden.")
                owner = other
        if gen.create_title:  # CHATS-CONTRACT 7.5; older releases ignore the field
            raw_title = body.get("title")
            if isinstance(raw_title, str):
                title = raw_title.strip()
        client_type = "ui" if body.get("client_type") == "ui" else "api"
        with self.lock:
            now = self._stamp(self.clock.now())
            workspace = self._workspace(caller, _uuid_field(body, "workspace_id"), org_id)
            chat = ChatRecord(
                id=self._uuid(),
                owner_id=owner.id,
                org_id=org_id,
                title=title or chat_title(text or ""),
                labels=labels,
                model_config_id=model or self.model_config_id,
                client_type=client_type,
                created_at=now,
                updated_at=now,
            )
            if workspace is not None:
                chat.workspace_id = workspace.id
                chat.build_id = workspace.latest.id
                chat.agent_id = workspace.latest.agent_id
            if text is not None:
                chat.start_turn(text, now, self.clock, self._next_id, owner.id, hold=self._hold)
                if workspace is not None and gen.context_messages:
                    # The first turn runs on the bound workspace: its context follows the
                    # first user message (CHATS-CONTRACT 7.2).
                    chat.inject_context(now, self._next_id)
            self.chats.append(chat)
            work = parse_chat_directives(text).subagent if text is not None else None
            if text is not None and work is not None:
                self.chats.append(self._sub_agent(chat, now, work, text))
            return self._json(chat, now)

    def _sub_agent(self, root: ChatRecord, now: float, work: float, prompt: str) -> ChatRecord:
        """A sub-agent chat the agent of `root` started (no labels of its own): idle, or busy
        with a delegated task for `work` seconds. Its status does not change its root's: whether
        Coder's does is open (CHATS-CONTRACT, open question 5), so the root may be `waiting`
        while its sub-agent still runs, the case a client must not take for done."""
        child = ChatRecord(
            id=self._uuid(),
            owner_id=root.owner_id,
            org_id=root.org_id,
            title="Sub-agent",
            labels={},
            model_config_id=root.model_config_id,
            client_type=root.client_type,
            created_at=now,
            updated_at=now,
            parent_id=root.id,
        )
        if work:
            task = f"Sub-task of: {plain_text(prompt)} [sim:work={work:g}]"
            child.start_turn(task, now, self.clock, self._next_id, root.owner_id, hold=self._hold)
        return child

    def _model(self, body: dict[str, Any]) -> str:
        """`model_config_id` of a create or send: one of the deployment's enabled configs, else
        400 with a message of CHATS-CONTRACT 7.3; "" when none is given."""
        model = _uuid_field(body, "model_config_id")
        config = next((c for c in self.models if c.id == model), None)
        if model and config is None:
            raise ApiError(400, "Invalid model config ID.")
        if config is not None and not config.enabled:
            raise ApiError(400, "Invalid model_config_id: model config not found or disabled.")
        return model

    def _workspace(self, caller: SimUser, workspace_id: str, org_id: str) -> Workspace | None:
        if not workspace_id:
            return None
        now = self.clock.now()
        for workspace in self.workspaces:
            if workspace.id == workspace_id and not workspace.gone(now):
                if workspace.owner_id != caller.id and not caller.owner:
                    break
                if org_id and workspace.org_id != org_id:
                    raise ApiError(400, "Workspace does not belong to the specified organization.")
                return workspace
        raise ApiError(400, "Workspace not found or you do not have access to this resource")

    # -- one chat --------------------------------------------------------------------------

    def get(self, caller: SimUser, chat_ref: str) -> dict[str, Any]:
        """`GET {P}/{chat}`; only this read derives `queued_for_capacity` (`omitempty`), the
        list never does (CHATS-CONTRACT 7.4; `exp_chats.go` and codersdk/chats.go, erickirt/coder
        c9a1e2bce)."""
        with self.lock:
            chat = self.find(caller, chat_ref)
            now = self.clock.now()
            status = self._status(chat, now)
            queued = chat.turn is not None and chat.turn.queued_for_capacity and not chat.archived
            children = self._children(chat, now)
            return chat_json(self.gen, self.directory, chat, status, children, queued=queued)

    def messages(self, caller: SimUser, chat_ref: str, query: dict[str, str]) -> dict[str, Any]:
        """`GET {P}/{chat}/messages`: newest first; `after_id` alone ascends (for polling)."""
        before = _positive(query, "before_id", 0)
        after = _positive(query, "after_id", 0)
        limit = _positive(query, "limit", 50)
        if not 1 <= limit <= 200:
            raise ApiError(400, "Invalid limit parameter (1-200).")
        if before and after and after >= before:
            raise ApiError(400, "after_id must be less than before_id.")
        with self.lock:
            chat = self.find(caller, chat_ref)
            self._settle(chat, self.clock.now())
            chosen = [
                m
                for m in chat.messages
                if (not before or m.id < before) and (not after or m.id > after)
            ]
            ascending = bool(after) and not before
            ordered = chosen if ascending else list(reversed(chosen))
            page = ordered[:limit]
            queued = [] if (before or after) else [queued_json(chat.id, q) for q in chat.queue]
            return {
                "messages": [message_json(chat.id, m) for m in page],
                "queued_messages": queued,
                "has_more": len(ordered) > limit,
            }

    def prompts(self, caller: SimUser, chat_ref: str, query: dict[str, str]) -> dict[str, Any]:
        """`GET {P}/{chat}/prompts`: the user's prompts, newest first (default 500)."""
        limit = _positive(query, "limit", 0)
        if limit > 2000:
            raise ApiError(400, "Invalid limit parameter (0-2000).")
        with self.lock:
            chat = self.find(caller, chat_ref)
            self._settle(chat, self.clock.now())
            users = [m for m in reversed(chat.messages) if m.role == "user"]
            return {
                "prompts": [
                    {"id": m.id, "text": "".join(p.get("text", "") for p in m.parts)}
                    for m in users[: limit or 500]
                ]
            }

    def send(self, caller: SimUser, chat_ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST {P}/{chat}/messages`: insert at once when idle, else queue (at most 20)."""
        with self.lock:
            chat = self.find(caller, chat_ref)
            if chat.owner_id != caller.id:
                raise ApiError(403, "Only the chat owner may send messages.")
            if chat.archived:
                raise ApiError(400, "Cannot send messages to an archived chat.")
            text = _content(body.get("content"), required=True)
            assert text is not None
            model = self._model(body) or None
            behavior = body.get("busy_behavior") or "queue"
            now = self._stamp(self.clock.now())
            status = self._status(chat, now)
            if status == "requires_action":
                raise ApiError(409, "Chat is not in a state that accepts new messages.")
            if status in ("waiting", "error"):
                message = chat.start_turn(
                    text,
                    now,
                    self.clock,
                    self._next_id,
                    caller.id,
                    model_config_id=model,
                    hold=self._hold,
                )
                return {"message": message_json(chat.id, message), "queued": False}
            if len(chat.queue) >= MAX_QUEUED:
                raise ApiError(
                    429,
                    "Message queue is full.",
                    detail=f"Maximum {MAX_QUEUED} messages can be queued.",
                )
            queued = QueuedMessage(next(self._queue_ids), text, now, caller.id, model)
            chat.queue.append(queued)
            chat.updated_at = now
            turn = chat.turn
            if behavior == "interrupt" and turn is not None and turn.interrupted_at is None:
                chat.interrupt(now, self.clock, settle=self.gen.state_refactor)
            return {"queued_message": queued_json(chat.id, queued), "queued": True}

    def unqueue(self, caller: SimUser, chat_ref: str, queued_ref: str) -> None:
        """`DELETE {P}/{chat}/queue/{id}` (CHATS-CONTRACT 1.10). As `deleteChatQueuedMessage`
        in coderd/chats.go (erickirt/coder 12083441): a non-integer id is 400 "Invalid queued
        message ID."; the delete is a plain `DELETE ... WHERE id AND chat_id`, so an id no
        longer queued (promoted meanwhile) deletes nothing and still answers 204."""
        try:
            queued_id = int(queued_ref)
        except ValueError:
            raise ApiError(400, "Invalid queued message ID.") from None
        with self.lock:
            chat = self.find(caller, chat_ref)
            now = self.clock.now()
            self._status(chat, now)  # settle turns first: a promoted message is no longer queued
            chat.queue = [q for q in chat.queue if q.id != queued_id]

    def interrupt(self, caller: SimUser, chat_ref: str) -> dict[str, Any]:
        """`POST {P}/{chat}/interrupt`: v2.35+ goes through `interrupting`; before, at once."""
        with self.lock:
            chat = self.find(caller, chat_ref)
            if chat.archived:
                raise ApiError(400, "Cannot interrupt an archived chat.")
            now = self.clock.now()
            status = self._status(chat, now)
            if self.gen.state_refactor and status not in ("running", "requires_action"):
                raise ApiError(409, "Chat is not in an interruptible state.")
            if status == "requires_action":
                chat.outcome = "waiting"
            elif chat.turn is not None:
                chat.interrupt(now, self.clock, settle=self.gen.state_refactor)
            chat.updated_at = now
            return self._json(chat, now)

    def _check_family_archive(
        self, chat: ChatRecord, family: list[ChatRecord], archived: bool, now: float
    ) -> None:
        """Archive state changes only on a root chat, and a root is archived only when its
        whole family is `waiting` or `error` (CHATS-CONTRACT 7.2, main `chatstate/
        transitions.go`; `ErrArchiveRequiresRootChat` in `exp_chats.go`, erickirt/coder
        c9a1e2bce); before the refactor, any chat was (1.9)."""
        if chat.parent_id:
            raise ApiError(400, "Chat archive state can only be changed on the root chat.")
        if archived and any(self._status(c, now) not in ("waiting", "error") for c in family):
            raise ApiError(
                409,
                "Cannot archive an active chat. Interrupt or wait for the chat to finish first.",
            )

    def update(self, caller: SimUser, chat_ref: str, body: dict[str, Any]) -> None:
        """`PATCH {P}/{chat}` (204): title, labels (replaced whole), archived."""
        with self.lock:
            chat = self.find(caller, chat_ref)
            now = self.clock.now()
            labels = validate_labels(body["labels"]) if "labels" in body else None
            archived = body.get("archived")
            if isinstance(archived, bool):
                if archived == chat.archived:
                    state = "archived" if archived else "not archived"
                    raise ApiError(400, f"Chat is already {state}.")
                family = [chat, *(c for c in self.chats if c.parent_id == chat.id)]
                if self.gen.state_refactor:
                    self._check_family_archive(chat, family, archived, now)
                # The family goes together (`ArchiveChatByID`: `WHERE id = @id OR root_chat_id
                # = @id`, chats.sql, erickirt/coder c9a1e2bce; CHATS-CONTRACT 1.6).
                for member in family:
                    member.archived = archived
            if labels is not None:
                chat.labels = labels
            title = body.get("title")
            if isinstance(title, str) and title:
                chat.title = title
            chat.updated_at = now


def chat_title(text: str) -> str:
    """The first six words of the prompt, at most 80 runes (`chatTitleFromMessage`)."""
    words = text.split()
    if not words:
        return "New Chat"
    title = " ".join(words[:6]) + ("…" if len(words) > 6 else "")
    return title[:80]


def _content(value: Any, *, required: bool) -> str | None:
    """The text of `ChatInputPart[]`; 400 `Content is required.` or `Invalid input part.`."""
    if not value:
        if required:
            raise ApiError(400, "Content is required.")
        return None
    if not isinstance(value, list):
        raise ApiError(400, "Request body must be valid JSON.", detail="content: expected a list")
    texts: list[str] = []
    for part in value:
        if not isinstance(part, dict) or str(part.get("type", "")).lower() != "text":
            raise ApiError(400, "Invalid input part.")
        text = part.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Invalid input part.")
        texts.append(text)
    return "\n".join(texts)


def _uuid_field(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not is_uuid(value):
        raise ApiError(400, "Request body must be valid JSON.", detail=f"{key}: invalid UUID")
    return value.lower()


def _positive(query: dict[str, str], key: str, default: int) -> int:
    raw = query.get(key, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ApiError(
            400,
            "Query parameters have invalid values.",
            validations=[
                Validation(key, f"Query param {_quote(key)} must be a valid positive integer")
            ],
        )
    return value


#: `limit` and `offset` of the chat list are any positive int32, without another upper bound
#: (CHATS-CONTRACT 1.5; `PositiveInt32` in `coderd/httpapi/queryparams.go`).
INT32_MAX = 2**31 - 1


def _pagination(query: dict[str, str]) -> tuple[int, int, str]:
    limit = _positive(query, "limit", 0)
    offset = _positive(query, "offset", 0)
    for key, value in (("limit", limit), ("offset", offset)):
        if value > INT32_MAX:
            detail = (
                f"Query param {_quote(key)} must be a valid 32-bit positive integer: "
                f"strconv.ParseInt: parsing {_quote(query[key])}: value out of range"
            )
            raise ApiError(
                400,
                "Query parameters have invalid values.",
                validations=[Validation(key, detail)],
            )
    after = query.get("after_id", "")
    if after and not is_uuid(after):
        raise ApiError(
            400,
            "Query parameters have invalid values.",
            validations=[Validation("after_id", 'Query param "after_id" must be a valid uuid')],
        )
    return limit, offset, after.lower()
