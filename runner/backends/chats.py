"""The batch backend over Coder Agents (the Chats API, Coder v2.32 and later).

Chats are shown to the rest of the batch as `runner.item.Item`s, as the Tasks backend shows
tasks, so planner, observer and executor stay the same. Ownership comes from labels
(`tasks/batch` and `tasks/item`, both with the batch's values); the item's name on the
deployment is rebuilt from them. A chat has no template: a task's template version and preset
are pinned by creating a workspace first (named like the task on Tasks, so it carries the batch
marker) and binding the chat to it (CHATS-CONTRACT 3).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from runner import ownership
from runner.backends.chat_capacity import CapacityProbe
from runner.backends.chat_inputs import answered_inputs, typed_inputs
from runner.backends.chat_labels import (
    LABEL_FOLLOW_UPS,
    completes,
    follow_ups_digest,
    proven_inputs,
)
from runner.backends.clean_up import REMOVED, STOPPED
from runner.backends.conflicts import NameConflicts
from runner.backends.pinned_workspace import WantedWorkspace, pin_workspace
from runner.coder import deadline
from runner.coder.chat_models import BUSY_STATUSES, Chat, PinnedWorkspace
from runner.coder.chats import ChatsClient
from runner.coder.client import CoderClient
from runner.coder.errors import is_archive_of_active_chat, is_queue_full
from runner.coder.models import User
from runner.errors import (
    AgentBusyError,
    ApiError,
    ConflictError,
    ManifestError,
    NotFoundError,
    TasksError,
    TransportError,
)
from runner.fanout import Fanout
from runner.item import (
    ACTIVE,
    ARCHIVED,
    AgentState,
    Cost,
    Delivered,
    Deployment,
    Item,
    ItemDetails,
    Message,
    Named,
    PullRequest,
    ResolvedTask,
    task_key,
)
from runner.manifest.model import DesiredTask
from runner.model_choice import ModelCatalogs, with_models
from runner.pinned import made_for, release_workspace
from runner.preflight import located, preflight
from runner.readiness import retire_chat

LABEL_BATCH = ownership.BATCH_LABEL
LABEL_ITEM = ownership.ITEM_LABEL
LABEL_SPEC = "tasks/spec"
#: Which command created the chat: after a create whose answer was lost, a chat of the item
#: made by a concurrent apply is told from this command's own (chat create has no
#: idempotency key, CHATS-CONTRACT 2).
LABEL_RUN = "tasks/run"
#: Messages read, newest first, to find the agent's last answer for the reports.
LAST_MESSAGE_PAGE = 50
#: The state of a chat waiting for a capacity slot (busy, as any state but idle or finished).
QUEUED_FOR_CAPACITY = "queued for capacity"


def spec_hash(desired: DesiredTask, resolved: ResolvedTask) -> str:
    """A short stable digest of what a chat is made from: prompt, template, version, preset."""
    spec = [
        desired.prompt.strip(),
        resolved.template.id if resolved.template else "",
        resolved.version_id,
        resolved.preset.id if resolved.preset else "",
    ]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:16]


def chat_labels(desired: DesiredTask, resolved: ResolvedTask, run: str) -> dict[str, str]:
    """The labels that make a chat the batch's own and name the command `run` that created
    it, after the team's own labels (no key of which is under `tasks/`: the loader refuses
    those)."""
    return {
        **dict(desired.labels),
        LABEL_BATCH: desired.batch,
        LABEL_ITEM: desired.name,
        LABEL_SPEC: spec_hash(desired, resolved),
        LABEL_RUN: run,
    }


def item_name(chat: Chat, batch: str) -> str | None:
    """The manifest name of `chat` when it carries `batch`'s ownership labels, else None."""
    item = chat.labels.get(LABEL_ITEM)
    if chat.labels.get(LABEL_BATCH) != batch or not item:
        return None
    return item


def workspace_name(batch: str, name: str) -> str:
    """The workspace pinned for item `name`: its Tasks name, within Coder's workspace rules."""
    return ownership.coder_name(batch, name)


@dataclass(frozen=True)
class _Spec:
    """What the manifest asks of one item, and the digest its chat's `tasks/spec` carries."""

    digest: str
    desired: DesiredTask
    resolved: ResolvedTask


@dataclass(frozen=True)
class _Origin:
    """What a chat was made from: prompt, template and workspace (None: not known)."""

    prompt: str | None = None
    template_id: str | None = None
    template_version_id: str | None = None
    template_name: str | None = None


class ChatsBackend:
    """Chats as batch items; `tasks_client` resolves templates, users and organizations."""

    kind = "chats"
    unique_names = False  # chats have no name, and chat create no idempotency key

    def __init__(self, chats: ChatsClient, tasks_client: CoderClient) -> None:
        self.chats = chats
        self.client = tasks_client
        self._lock = threading.Lock()
        self._prompts: dict[str, str] = {}  # chat id -> first user message (never changes)
        self._workspaces: dict[str, PinnedWorkspace] = {}
        self._me: User | None = None
        self.conflicts = NameConflicts()
        self._specs: dict[tuple[str, str], _Spec] = {}  # (batch, item) -> the manifest's spec
        self._leftovers: set[str] = set()  # ids of workspaces listed as leftovers
        self._capacity = CapacityProbe()
        self._catalogs = ModelCatalogs(chats)  # each organization's models, read once
        self.run = secrets.token_hex(8)  # this command's `tasks/run` label

    @property
    def deployment(self) -> Deployment:
        return Deployment.of(self.chats.server)

    @property
    def can_resume(self) -> bool:
        return False  # a chat is never paused; an interrupted one takes messages

    @property
    def has_cost(self) -> bool:
        return self.chats.server.supports_cost

    def cost(self, item: Item) -> Cost | None:
        """`GET {P}/{chat}/cost`: the AI Gateway's total for the chat and its sub-agents."""
        if not self.has_cost:
            return None
        found = self.chats.cost(item.id)
        return Cost(found.total_cost_micros, found.request_count, found.unpriced_request_count)

    def me(self) -> User:
        if self._me is None:
            self._me = self.chats.me()
        return self._me

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        resolved = preflight(self.client, desired, ai_templates=False, me=self.me)
        me = self.me()
        # Refused on every version: only a chat's owner can list it or send to it
        # (CHATS-CONTRACT 1.4, 1.5), and what GA's `owner_id` needs is unsettled (open
        # question 7), so a chat made for another user could neither be followed up nor found
        # again after a lost response.
        refused = [
            located(task, _other_owner(owner.username, me.username))
            for task in desired
            for owner in [resolved[task_key(task)].owner]
            if owner.id != me.id
        ]
        if refused:
            raise ManifestError(refused)
        # The models named; a deployment's default is needed only by a create that names none
        # (`require_creatable`), so a batch that names none and creates none reads no list.
        resolved = with_models(self._catalogs, [t for t in desired if t.model], resolved)
        with self._lock:
            for task in desired:
                found = resolved[task_key(task)]
                self._specs[(task.batch, task.name)] = _Spec(spec_hash(task, found), task, found)
        return resolved

    def require_creatable(
        self, creating: Sequence[DesiredTask], resolved: Mapping[str, ResolvedTask]
    ) -> None:
        # Coder refuses a create without a model where no default is configured (7.3).
        with_models(self._catalogs, [t for t in creating if not t.model], resolved)

    def list_items(self, owner: str | None, batch: str) -> list[Item]:
        # Every chat of the batch in one labelled list (all pages), whoever the owner asked is.
        chats = self.chats.list_chats(labels={LABEL_BATCH: batch})
        return [self._as_item(chat, batch) for chat in chats]

    def with_capacity_waits(self, watched: Sequence[Item], fanout: Fanout) -> list[Item]:
        """Marks the chats Coder keeps `running` without working on them (CHATS-CONTRACT 7.4),
        found with at most `chat_capacity.PROBES_PER_POLL` single-chat reads per poll, made
        through `fanout`; only a v2.37+ server has such waits."""
        if not self.chats.server.capacity_limits:
            return list(watched)
        running = [(t.id, t.updated_at) for t in watched if t.running]
        idle = [t.id for t in watched if not t.running]
        queued = self._capacity.queued(running, idle, self._queued_for_capacity, fanout)
        return [_queued(t) if t.id in queued else t for t in watched]

    def _queued_for_capacity(self, chat_id: str) -> bool:
        try:
            return self.chats.get_chat(chat_id).queued_for_capacity
        except (ApiError, TransportError):
            return False  # unknown: its timeout runs, as it would without the read

    def leftovers(self, batch: str) -> list[Item]:
        """The token user's workspaces named with `batch`'s marker that no live chat of the
        batch is bound to (e.g. a run stopped between the workspace's create and its chat's)."""
        me = self.me()
        used = {c.workspace_id for c in self.chats.list_chats(labels={LABEL_BATCH: batch})}
        found = []
        for workspace in self.chats.workspaces_of(me.username):
            item = ownership.base_name(batch, workspace.name)
            if item and workspace.id not in used and workspace.transition != "delete":
                found.append(_leftover(workspace, batch, item, me))
        with self._lock:
            self._leftovers.update(task.id for task in found)
        return found

    def dashboard_path(self, item: Item) -> str:
        return f"/agents/{item.id}"

    def delivered_inputs(self, item: Item, *, read: bool = False) -> Delivered:
        """The text of every message someone sent, oldest first (workspace context is not),
        and which the agent answered; without a read where the chat's labels prove every
        follow-up delivered, unless `read`."""
        spec = None if read else self._spec_of(item)
        if spec is not None:
            proven = _proven(item, spec)
            if proven is not None:
                return Delivered(proven)
        history = self.chats.history(item.id)
        inputs = tuple(m.text for m in typed_inputs(history))
        return Delivered(inputs, answered=answered_inputs(history))

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Item:
        # Without a template nothing is pinned: the agent picks a template and provisions a
        # workspace only when it needs one (CHATS-CONTRACT 1.3, `workspace_id`).
        version = resolved.version
        workspace = self._pinned_workspace(desired, resolved, version) if version else None
        organization = resolved.organization
        chat = self.chats.create_chat(
            desired.prompt,
            # None: the client takes the user's default organization.
            organization_id=organization.id if organization else None,
            labels=chat_labels(desired, resolved, self.run),
            workspace_id=workspace.id if workspace else None,
            title=desired.display_name,
            model_config_id=resolved.model.id if resolved.model else None,
        )
        with self._lock:
            self._prompts[chat.id] = desired.prompt
        return self._as_item(chat, desired.batch)

    def made_here(self, item: Item) -> bool | None:
        run = item.labels.get(LABEL_RUN)
        return None if run is None else run == self.run

    def create_refused(self, resolved: ResolvedTask) -> str | None:
        return None  # a chat's template version is judged by its workspace's create

    def claim_create(self, resolved: ResolvedTask, *, pinned: bool) -> bool:
        return True

    def settle_create(
        self, resolved: ResolvedTask, *, pinned: bool, error: BaseException | None
    ) -> None:
        return None

    def retire_refused_for_now(self, error: BaseException) -> bool:
        # v2.35+ refuses to archive a chat still interrupting (CHATS-CONTRACT 7.2).
        return isinstance(error, ConflictError) and is_archive_of_active_chat(error)

    def no_later_than(self, instant: float, why: str) -> AbstractContextManager[None]:
        return deadline.no_later_than(instant, why)

    def retire(self, item: Item) -> None:
        """Interrupt and archive a younger duplicate; its pinned workspace is the kept chat's
        too (adopted by name), so it stays. One attempt: Coder's 409 while the chat is still
        `interrupting` is raised, and the run asks again after a pause (runner/execute/race.py),
        so no worker thread waits it out."""
        retire_chat(self.chats, self.chats.get_chat(item.id), patience=0.0)

    @property
    def recreates_failed(self) -> bool:
        return False  # retrying a failed chat is sending it a message (CHATS-CONTRACT 7.2)

    def send(self, item: Item, message: Message) -> bool:
        """Send only after the agent answered `message.after`, the batch's last input (known
        from `message.delivered` when it was read from the history; else read here).

        Two applies can both read the history before either sends: the later send then finds
        the agent busy and is queued, and is withdrawn when the same text is already in the
        history or earlier in the queue (the survivor's history decides)."""
        text, after, delivered = message.text, message.after, message.delivered
        if delivered is None and after is not None:
            delivered = self.delivered_inputs(item, read=True)
        answered = delivered.answered if delivered is not None else None
        if answered is not None and after is not None and after.strip() not in answered:
            raise AgentBusyError(409, "the agent has not answered the last message yet")
        wanted = self._manifest_spec(item)
        model = wanted.resolved.model if wanted is not None else None
        self._capacity.new_turn(item.id)
        try:
            # The manifest's model goes with every follow-up (CHATS-CONTRACT 7.3).
            result = self.chats.send_message(
                item.id,
                text,
                # `interrupt` queues the message and stops the current turn (CHATS-CONTRACT 1.4)
                busy_behavior="interrupt" if message.interrupt else "queue",
                model_config_id=model.id if model else None,
            )
        except ApiError as error:
            if is_queue_full(error):
                raise AgentBusyError(
                    error.status, error.api_message, method=error.method, path=error.path
                ) from None
            raise
        if (
            result.queued
            and result.queued_id is not None
            and self._sent_already(item, text, result.queued_id)
        ):
            self.chats.unqueue(item.id, result.queued_id)
            return False
        spec = self._spec_of(item)
        if spec is not None and delivered is not None and delivered.answered is not None:
            before = list(delivered.inputs)
            desired = spec.desired
            if completes(before, desired.prompt, desired.follow_ups, text):
                self._label_delivered(item, desired.follow_ups)
        return True

    def _sent_already(self, item: Item, text: str, queued_id: int) -> bool:
        """Whether `text`, queued as `queued_id`, is the newest user message or queued before
        (v2.32 to v2.34 also store the workspace's context as a user message without text)."""
        page = self.chats.messages(item.id, limit=LAST_MESSAGE_PAGE)
        newest = next((m for m in page.messages if m.role == "user" and m.text), None)
        if newest is not None and newest.text.strip() == text.strip():
            return True
        return any(q.id < queued_id and q.text.strip() == text.strip() for q in page.queued)

    def _label_delivered(self, item: Item, follow_ups: Sequence[str]) -> None:
        """Mark every follow-up delivered (labels are replaced whole, so all are sent)."""
        labels = dict(item.labels)
        labels[LABEL_FOLLOW_UPS] = follow_ups_digest(follow_ups)
        # Only a saving for later plans: without it they read the history instead.
        with contextlib.suppress(ApiError, TransportError):
            self.chats.set_labels(item.id, labels)

    def _manifest_spec(self, item: Item) -> _Spec | None:
        """The manifest's spec for the item `item`'s labels name, if the manifest has it."""
        labels = item.labels
        key = (labels.get(LABEL_BATCH, ""), labels.get(LABEL_ITEM, ""))
        with self._lock:
            return self._specs.get(key)

    def _spec_of(self, item: Item) -> _Spec | None:
        """The manifest's spec for `item` when its `tasks/spec` label still matches it."""
        spec = self._manifest_spec(item)
        return spec if spec is not None and item.labels.get(LABEL_SPEC) == spec.digest else None

    def delete(self, item: Item) -> None:
        """Interrupt a busy chat, archive it, then delete the workspace apply made for it."""
        with self._lock:
            leftover = item.id in self._leftovers
        if leftover:
            self.chats.delete_workspace(item.id)
            return
        chat = self.chats.get_chat(item.id)
        # One attempt: a refusal while Coder interrupts is raised, and the run asks again.
        retire_chat(self.chats, chat, patience=0.0)
        release_workspace(self.chats, chat)

    def resume(self, item: Item) -> None:
        raise TasksError("chats cannot be paused or resumed")

    def finished_items(self, batch: str) -> list[Item]:
        """The batch's archived chats: listable with `q=archived:true` until Coder's retention
        purges them (CHATS-CONTRACT 7.4, 1.5), and done: `after: remove` archived them."""
        chats = self.chats.list_chats(labels={LABEL_BATCH: batch}, archived=True)
        return [self._as_item(chat, batch) for chat in chats]

    def clean_up_pending(self, items: Sequence[tuple[Item, str]]) -> set[str]:
        """`stop`: the pinned workspace still started; `remove`: the chat live, or its pinned
        workspace not yet being deleted. One read of the user's workspaces, if any is pinned."""
        workspaces: dict[str, PinnedWorkspace] = {}
        if any(item.workspace_id for item, _ in items):
            workspaces = {w.id: w for w in self.chats.workspaces_of(self.me().username)}
        pending = set()
        for item, after in items:
            found = workspaces.get(item.workspace_id or "")
            pinned = found if found and made_for(item.labels, found.name) else None
            removing = bool(pinned and pinned.transition != "delete")
            stopping = bool(pinned and pinned.transition == "start")
            live = item.status != ARCHIVED
            if (after == "remove" and (live or removing)) or (after == "stop" and stopping):
                pending.add(item.id)
        return pending

    def clean_up(self, item: Item, after: str) -> str:
        """`remove`: archive the chat (interrupting it first where Coder would not archive it
        as it is), then delete its pinned workspace; `stop`: stop that workspace (a chat with
        none pinned has nothing to stop). Either is done once, whatever was done before; one
        attempt, whose refusal (a chat still interrupting, a build still running) is raised
        for the run to ask again (runner/execute/cleanup.py)."""
        chat = self.chats.get_chat(item.id)
        if after == "remove":
            archiving = not chat.archived
            retire_chat(self.chats, chat, patience=0.0)
            released = release_workspace(self.chats, chat)
            return REMOVED if archiving or released else ""
        if not chat.workspace_id:
            return ""
        try:
            workspace = self.chats.get_workspace(chat.workspace_id)
        except NotFoundError:
            return ""  # deleted meanwhile: nothing left to stop
        if not made_for(chat.labels, workspace.name) or workspace.transition != "start":
            return ""
        self.chats.stop_workspace(workspace.id)
        return STOPPED

    def details(self, item: Item, *, last_text: bool = False) -> ItemDetails:
        """The pull request and Coder's label of the last turn, from the chat's row in the last
        poll (`item.pull_request`, `item.summary`); the newest messages are read only from
        servers without turn labels, or for `last_text`: the label is the model's summary, not
        the assistant's text."""
        pull_request = item.pull_request
        said = None if last_text else item.summary
        if said is None:  # a server without turn labels, or the words wanted: the messages
            newest_first = self.chats.messages(item.id, limit=LAST_MESSAGE_PAGE).messages
            said = next((m.text for m in newest_first if m.role == "assistant" and m.text), "")
        return ItemDetails(pull_request=pull_request, last_message=said)

    # -- internals ------------------------------------------------------------------------

    def _pinned_workspace(
        self, desired: DesiredTask, resolved: ResolvedTask, version: Named
    ) -> PinnedWorkspace:
        """The item's workspace, named like the task would be on Tasks (`pinned_workspace`)."""
        wanted = WantedWorkspace(
            name=workspace_name(desired.batch, desired.name),
            owner=resolved.owner.username,
            version_id=version.id,
            preset_id=resolved.preset.id if resolved.preset else None,
        )
        workspace = pin_workspace(self.chats, wanted, self.conflicts)
        with self._lock:
            self._workspaces[workspace.id] = workspace
        return workspace

    def _workspace(self, workspace_id: str) -> PinnedWorkspace | None:
        with self._lock:
            known = self._workspaces.get(workspace_id)
        if known is not None:
            return known
        try:
            workspace = self.chats.get_workspace(workspace_id)
        except ApiError:
            return None
        with self._lock:
            self._workspaces[workspace_id] = workspace
        return workspace

    def _first_prompt(self, chat: Chat) -> str:
        with self._lock:
            known = self._prompts.get(chat.id)
        if known is not None:
            return known
        for message in typed_inputs(self.chats.history(chat.id)):
            with self._lock:
                self._prompts[chat.id] = message.text
            return message.text
        return ""

    def _origin(self, chat: Chat, batch: str, item: str | None) -> _Origin:
        """What `chat` was made from, read from its labels where they vouch for it.

        A `tasks/spec` label equal to the manifest's digest says the chat was made from that
        prompt, template, version and preset, so neither its history nor its workspace is read
        (a thousand unchanged chats cost their list pages). Only a chat of a manifest item whose
        label differs or is missing is read, to say how it drifted; a chat the manifest no
        longer names is only ever deleted, so nothing of it is read.
        """
        with self._lock:
            spec = self._specs.get((batch, item)) if item else None
        if spec is None or item is None:
            return _Origin()
        resolved = spec.resolved
        # Unpinned, the agent may provision a workspace of its own: nothing to compare it to.
        bound = resolved.template is None or chat.workspace_id is not None
        if chat.labels.get(LABEL_SPEC) == spec.digest and bound:
            template = resolved.template
            return _Origin(
                prompt=spec.desired.prompt,
                template_id=template.id if template else None,
                template_version_id=resolved.version_id or None,
                template_name=template.name if template else None,
            )
        workspace = self._workspace(chat.workspace_id) if chat.workspace_id else None
        if workspace is None:
            return _Origin(prompt=self._first_prompt(chat))
        return _Origin(
            prompt=self._first_prompt(chat),
            template_id=workspace.template_id,
            template_version_id=workspace.template_version_id,
            template_name=_template_name(workspace),
        )

    def _as_item(self, chat: Chat, batch: str) -> Item:
        item = item_name(chat, batch)
        me = self.me()
        origin = self._origin(chat, batch, item)
        state, message = _state(chat)
        return Item(
            id=chat.id,
            name=ownership.coder_name(batch, item) if item else "",
            owner_id=chat.owner_id or me.id,
            owner_name=chat.owner_username or (me.username if chat.owner_id == me.id else ""),
            # Archived (by `after: remove`): listed only with `q=archived:true`, never watched;
            # any other chat takes messages, which is what `active` means to a batch.
            status=ARCHIVED if chat.archived else ACTIVE,
            current_state=AgentState(state, message, chat.updated_at),
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            display_name=ownership.display_name(batch, item) if item else None,
            initial_prompt=origin.prompt,
            template_id=origin.template_id,
            template_version_id=origin.template_version_id,
            template_name=origin.template_name,
            workspace_id=chat.workspace_id,
            model_config_id=chat.last_model_config_id or None,
            running=chat.status == "running",
            labels=chat.labels,
            pull_request=_pull_request(chat),
            summary=chat.turn_summary,
        )


def _leftover(workspace: PinnedWorkspace, batch: str, item: str, me: User) -> Item:
    """A leftover workspace as an item of the batch: named and marked as its chat would be."""
    return Item(
        id=workspace.id,
        name=workspace.name,
        owner_id=me.id,
        owner_name=me.username,
        status=ACTIVE,
        display_name=ownership.display_name(batch, item),
        template_id=workspace.template_id,
        template_version_id=workspace.template_version_id,
        template_name=_template_name(workspace),
        workspace_id=workspace.id,
        workspace_status=workspace.status,
    )


def _template_name(workspace: PinnedWorkspace) -> str | None:
    name = workspace.raw.get("template_name")
    return name if isinstance(name, str) else None


def _pull_request(chat: Chat) -> PullRequest | None:
    """The pull request Coder tracks for the chat (`diff_status`), if any."""
    diff = chat.diff_status
    if diff is None or not diff.url:
        return None
    return PullRequest(
        url=diff.url,
        state=diff.state or "",
        title=diff.title,
        additions=diff.additions,
        deletions=diff.deletions,
    )


def _queued(item: Item) -> Item:
    """`item`, shown as waiting for a capacity slot."""
    state = item.current_state
    at = state.timestamp if state else None
    return replace(
        item,
        queued_for_capacity=True,
        current_state=AgentState(QUEUED_FOR_CAPACITY, "", at),
    )


def _proven(item: Item, spec: _Spec) -> tuple[str, ...] | None:
    """The inputs `item`'s labels prove delivered for `spec`, else None."""
    return proven_inputs(item.labels, spec.desired.prompt, spec.desired.follow_ups)


def _other_owner(owner: str, me: str) -> str:
    return (
        f"owner {owner!r}: chats belong to the token's user ({me}), and only a chat's owner "
        f"can list it or send to it, so this batch could neither follow up nor find a chat "
        f"made for {owner}; run it with {owner}'s token"
    )


def _state(chat: Chat) -> tuple[str, str]:
    """The Tasks state a chat status stands for (CHATS-CONTRACT 3, 1.13 and 7.2), with its
    message.

    `waiting` is both "finished" and "waiting for input": idle, once no sub-agent of the chat
    is busy. `error` and `requires_action`
    (this tool declares no client tools) end the agent's work as a failure. A status this
    client does not know is waited on as busy and shown as Coder sent it, never taken for done.
    """
    if chat.status == "error":
        error = chat.last_error
        return "failed", (error.message if error else "") or "the chat is in error"
    if chat.status == "requires_action":
        return "failed", "needs tool results"
    busy = len(chat.busy_children)
    if chat.status == "waiting" and busy:
        # Whether Coder keeps a root busy while its sub-agents run is open (CHATS-CONTRACT,
        # open question 5): a root is not done while any of them still works.
        return "working", f"{busy} sub-agent(s) still working"
    if chat.status == "waiting":
        return "idle", ""
    if chat.status in BUSY_STATUSES:
        return "working", ""
    return "working", f"chat status {chat.status!r}"
