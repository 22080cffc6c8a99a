"""The batch backend over Coder Agents (the Chats API, Coder v2.32 and later).

Chats are shown to the rest of the batch as `Task` records, so planner, observer and executor
stay the same. Ownership comes from labels (`tasks/batch` and `tasks/item`, both with the
batch's values); the item's name on the deployment is rebuilt from them. A chat has no template:
a task's template version and preset are pinned by creating a workspace first (named like the
task on Tasks, so it carries the batch marker) and binding the chat to it (CHATS-CONTRACT 3).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace

from runner import ownership
from runner.backends.chat_inputs import answered, typed_inputs
from runner.backends.conflicts import NameConflicts
from runner.coder.chat_models import BUSY_STATUSES, Chat, ChatMessage, PinnedWorkspace
from runner.coder.chats import ChatsClient
from runner.coder.client import CoderClient
from runner.coder.errors import is_queue_full
from runner.coder.models import Task, TaskState, TemplateVersion, User
from runner.coder.version import ServerInfo
from runner.errors import (
    AgentBusyError,
    ApiError,
    ConflictError,
    LocatedError,
    ManifestError,
    ServerError,
    TasksError,
    UncertainOutcomeError,
)
from runner.execute.results import ItemDetails, PullRequest
from runner.manifest.model import DesiredTask
from runner.model_choice import ModelCatalogs, ModelProblem
from runner.preflight import ResolvedTask, located, preflight, task_key

LABEL_BATCH = ownership.BATCH_LABEL
LABEL_ITEM = ownership.ITEM_LABEL
LABEL_SPEC = "tasks/spec"
#: Messages read, newest first, to find the agent's last answer for the reports.
LAST_MESSAGE_PAGE = 50


def spec_hash(desired: DesiredTask, resolved: ResolvedTask) -> str:
    """A short stable digest of what a chat is made from: prompt, template, version, preset."""
    spec = [
        desired.prompt.strip(),
        resolved.template.id if resolved.template else "",
        resolved.version_id,
        resolved.preset.id if resolved.preset else "",
    ]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:16]


def chat_labels(desired: DesiredTask, resolved: ResolvedTask) -> dict[str, str]:
    """The labels that make a chat the batch's own, after the team's own labels (no key of
    which is under `tasks/`: the loader refuses those)."""
    return {
        **dict(desired.labels),
        LABEL_BATCH: desired.batch,
        LABEL_ITEM: desired.name,
        LABEL_SPEC: spec_hash(desired, resolved),
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


class ChatsBackend:
    """Chats as batch items; `tasks_client` resolves templates, users and organizations."""

    def __init__(self, chats: ChatsClient, tasks_client: CoderClient) -> None:
        self.chats = chats
        self.client = tasks_client
        self._lock = threading.Lock()
        self._prompts: dict[str, str] = {}  # chat id -> first user message (never changes)
        self._workspaces: dict[str, PinnedWorkspace] = {}
        self._me: User | None = None
        self.conflicts = NameConflicts()
        self._histories: dict[str, list[ChatMessage]] = {}  # chat id -> read right before a send
        self._models: dict[str, str] = {}  # coder name (lower) -> model config id to send with

    @property
    def kind(self) -> str:
        return "chats"

    @property
    def server(self) -> ServerInfo:
        info = self.chats.server
        return ServerInfo(
            version=info.version,
            major=info.major,
            minor=info.minor,
            patch=info.patch,
            generation="chats",
            dashboard_url=info.dashboard_url,
        )

    @property
    def can_resume(self) -> bool:
        return False  # a chat is never paused; an interrupted one takes messages

    def me(self) -> User:
        if self._me is None:
            self._me = self.chats.me()
        return self._me

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        resolved = preflight(self.client, desired, ai_templates=False)
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
        return self._with_models(desired, resolved)

    def list_items(self, owner: str | None, batch: str) -> list[Task]:
        # Every chat of the batch in one labelled list (all pages), whoever the owner asked is.
        chats = self.chats.list_chats(labels={LABEL_BATCH: batch})
        return [self._as_task(chat, batch) for chat in chats]

    def ownership_mark(self, item: Task) -> str | None:
        return item.display_name

    def dashboard_path(self, item: Task) -> str:
        return f"/agents/{item.id}"

    def delivered_inputs(self, item: Task) -> tuple[str, ...]:
        """The text of every message someone sent, oldest first (workspace context is not)."""
        history = self.chats.history(item.id)
        with self._lock:
            self._histories[item.id] = history
        return tuple(m.text for m in typed_inputs(history))

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Task:
        # Without a template nothing is pinned: the agent picks a template and provisions a
        # workspace only when it needs one (CHATS-CONTRACT 1.3, `workspace_id`).
        version = resolved.version
        workspace = self._pinned_workspace(desired, resolved, version) if version else None
        organization = resolved.organization
        chat = self.chats.create_chat(
            desired.prompt,
            # None: the client takes the user's default organization.
            organization_id=organization.id if organization else None,
            labels=chat_labels(desired, resolved),
            workspace_id=workspace.id if workspace else None,
            title=desired.display_name,
            model_config_id=resolved.model.id if resolved.model else None,
        )
        with self._lock:
            self._prompts[chat.id] = desired.prompt
        return self._as_task(chat, desired.batch)

    def send(self, item: Task, text: str, *, after: str) -> None:
        """Send only after the agent answered `after`, the batch's last input (the executor
        reads the history right before each send, so that is known without another request)."""
        with self._lock:
            history = self._histories.pop(item.id, None)
        if history is not None and not answered(history, after):
            raise AgentBusyError(409, "the agent has not answered the last message yet")
        with self._lock:
            model = self._models.get(item.name.lower())
        try:
            # The manifest's model goes with every follow-up (CHATS-CONTRACT 7.3).
            self.chats.send_message(item.id, text, model_config_id=model)
        except ApiError as error:
            if is_queue_full(error):
                raise AgentBusyError(
                    error.status, error.api_message, method=error.method, path=error.path
                ) from None
            raise

    def delete(self, item: Task) -> None:
        """Interrupt a busy chat, archive it, then delete the workspace apply made for it."""
        chat = self.chats.get_chat(item.id)
        self.chats.retire(chat)
        batch = chat.labels.get(LABEL_BATCH, "")
        item_label = chat.labels.get(LABEL_ITEM, "")
        if chat.workspace_id and batch and item_label:
            workspace = self._workspace(chat.workspace_id)
            ours = workspace is not None and workspace.name.lower() == (
                workspace_name(batch, item_label).lower()
            )
            if workspace is not None and ours and workspace.transition != "delete":
                self.chats.delete_workspace(workspace.id)

    def resume(self, item: Task) -> None:
        raise TasksError("chats cannot be paused or resumed")

    def details(self, item: Task) -> ItemDetails:
        """The pull request Coder tracks for the chat now, and its last assistant message."""
        chat = self.chats.get_chat(item.id)
        diff = chat.diff_status
        pull_request = None
        if diff is not None and diff.url:
            pull_request = PullRequest(
                url=diff.url,
                state=diff.state or "",
                title=diff.title,
                additions=diff.additions,
                deletions=diff.deletions,
            )
        newest_first = self.chats.messages(item.id, limit=LAST_MESSAGE_PAGE).messages
        said = next((m.text for m in newest_first if m.role == "assistant" and m.text), "")
        return ItemDetails(pull_request=pull_request, last_message=said)

    # -- internals ------------------------------------------------------------------------

    def _with_models(
        self, desired: Sequence[DesiredTask], resolved: Mapping[str, ResolvedTask]
    ) -> Mapping[str, ResolvedTask]:
        """`resolved` with the model config each task names; a ManifestError locates every
        model that cannot be used, and a missing default where no model is named."""
        catalogs = ModelCatalogs(self.chats)
        chosen = dict(resolved)
        problems: dict[str, LocatedError] = {}  # a matrix's tasks share their entry's line
        for task in desired:
            key = task_key(task)
            organization = resolved[key].organization
            try:
                config = catalogs.choose(organization.id if organization else None, task.model)
            except ModelProblem as problem:
                error = located(task, str(problem))
                problems.setdefault(str(error), error)
                continue
            if config is not None:
                chosen[key] = replace(resolved[key], model=config)
                with self._lock:
                    self._models[task.coder_name.lower()] = config.id
        if problems:
            raise ManifestError(list(problems.values()))
        return chosen

    def _pinned_workspace(
        self, desired: DesiredTask, resolved: ResolvedTask, version: TemplateVersion
    ) -> PinnedWorkspace:
        """The item's workspace: the one an earlier (lost or half-done) create made, else new.

        Looked up by its name first, so a create whose response was lost, or whose chat was
        never made, is adopted rather than made twice.
        """
        name = workspace_name(desired.batch, desired.name)
        owner = resolved.owner.username
        workspace = self._adoptable(resolved, version, name)
        if workspace is None:
            try:
                workspace = self.chats.create_workspace(
                    name,
                    version.id,
                    owner=owner,
                    preset_id=resolved.preset.id if resolved.preset else None,
                )
            except ConflictError as refused:
                found = self.conflicts.holder(
                    refused,
                    owner,
                    name,
                    lambda: self.chats.workspace_by_owner_and_name(owner, name),
                )
                workspace = self._judged(PinnedWorkspace.from_json(found), resolved, version)
            except (UncertainOutcomeError, ServerError):
                workspace = self._adoptable(resolved, version, name)
                if workspace is None:
                    raise
        with self._lock:
            self._workspaces[workspace.id] = workspace
        return workspace

    def _adoptable(
        self, resolved: ResolvedTask, version: TemplateVersion, name: str
    ) -> PinnedWorkspace | None:
        found = self.chats.workspace_by_name(resolved.owner.username, name)
        return None if found is None else self._judged(found, resolved, version)

    def _judged(
        self, found: PinnedWorkspace, resolved: ResolvedTask, version: TemplateVersion
    ) -> PinnedWorkspace:
        """`found`, when it is the item's pinned workspace as the manifest wants it."""
        name = found.name
        if found.transition == "delete":
            # The workspace of a replaced chat, still being deleted: its name frees up soon.
            raise ConflictError(409, f"workspace {name!r} is still being deleted")
        wanted_preset = resolved.preset.id if resolved.preset else None
        if found.template_version_id != version.id or (
            wanted_preset and found.preset_id != wanted_preset
        ):
            raise TasksError(
                f"workspace {name!r} exists with another template version or preset; "
                "delete it (or rename the task) and apply again"
            )
        return found

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

    def _as_task(self, chat: Chat, batch: str) -> Task:
        item = item_name(chat, batch)
        me = self.me()
        name = ownership.coder_name(batch, item) if item else ""
        workspace = self._workspace(chat.workspace_id) if item and chat.workspace_id else None
        state, message = _state(chat)
        return Task(
            id=chat.id,
            name=name,
            owner_id=chat.owner_id or me.id,
            owner_name=chat.owner_username or (me.username if chat.owner_id == me.id else ""),
            organization_id=chat.organization_id or "",
            display_name=ownership.display_name(batch, item) if item else None,
            template_id=workspace.template_id if workspace else "",
            template_version_id=workspace.template_version_id if workspace else "",
            template_name=str(workspace.raw.get("template_name") or "") if workspace else "",
            template_display_name="",
            workspace_id=chat.workspace_id,
            workspace_name=workspace.name if workspace else "",
            workspace_status="",
            workspace_build_number=0,
            workspace_agent_id=None,
            workspace_agent_lifecycle=None,
            workspace_agent_healthy=None,
            workspace_app_id=None,
            initial_prompt=self._first_prompt(chat) if item else "",
            status="active",
            current_state=TaskState(state, message, "", chat.updated_at),
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            raw=chat.raw,
            model_config_id=chat.last_model_config_id,
        )


def _other_owner(owner: str, me: str) -> str:
    return (
        f"owner {owner!r}: chats belong to the token's user ({me}), and only a chat's owner "
        f"can list it or send to it, so this batch could neither follow up nor find a chat "
        f"made for {owner}; run it with {owner}'s token"
    )


def _state(chat: Chat) -> tuple[str, str]:
    """The Tasks state a chat status stands for (CHATS-CONTRACT 3, 1.13 and 7.2), with its
    message.

    `waiting` is both "finished" and "waiting for input": idle. `error` and `requires_action`
    (this tool declares no client tools) end the agent's work as a failure. A status this
    client does not know is waited on as busy and shown as Coder sent it, never taken for done.
    """
    if chat.status == "error":
        error = chat.last_error
        return "failed", (error.message if error else "") or "the chat is in error"
    if chat.status == "requires_action":
        return "failed", "needs tool results"
    if chat.status == "waiting":
        return "idle", ""
    if chat.status in BUSY_STATUSES:
        return "working", ""
    return "working", f"chat status {chat.status!r}"
