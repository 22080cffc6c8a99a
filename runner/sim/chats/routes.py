"""The chat routes of the simulated API, registered on the shared route table per generation.

v2.32 and v2.33 without the `agents` experiment answer every chat route with Coder's
`RequireExperiment` 403 (`coderd/httpmw/experiments.go` at v2.33.0-rc.1); v2.31 and older have no
chat route at all, so chi's `Route not found.` 404 answers.
"""

from __future__ import annotations

from runner.sim.apierror import ApiError
from runner.sim.chats.store import ChatStore
from runner.sim.routes import Api, Request, Result, Route, _pattern

AGENTS_GATE = "Agents functionality requires enabling the 'agents' experiment."


class ChatRoutes:
    """Handlers binding HTTP requests to the chat store."""

    def __init__(self, store: ChatStore) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        """Every chat route under every prefix this generation serves."""
        found: list[Route] = []
        for base in self.store.gen.prefixes:
            chat = f"{base}/{{chat}}"
            found += [
                Route(_pattern(base), {"GET": self.list, "POST": self.create}),
                Route(_pattern(chat), {"GET": self.get, "PATCH": self.update}),
                Route(_pattern(f"{chat}/messages"), {"GET": self.messages, "POST": self.send}),
                Route(_pattern(f"{chat}/prompts"), {"GET": self.prompts}),
                Route(_pattern(f"{chat}/interrupt"), {"POST": self.interrupt}),
                # CHATS-CONTRACT 1.10; 204 as `deleteChatQueuedMessage` in coderd/chats.go
                # (erickirt/coder 12083441).
                Route(_pattern(f"{chat}/queue/{{queued}}"), {"DELETE": self.unqueue}),
            ]
        return found

    def _gate(self) -> None:
        if self.store.gen.gated:
            raise ApiError(403, AGENTS_GATE)

    def list(self, request: Request) -> Result:
        self._gate()
        labels = [v for k, v in request.query_items if k == "label"]
        return 200, self.store.list_chats(request.user, request.query, labels)

    def create(self, request: Request) -> Result:
        self._gate()
        return 201, self.store.create(request.user, request.json())

    def get(self, request: Request) -> Result:
        self._gate()
        return 200, self.store.get(request.user, request.params["chat"])

    def update(self, request: Request) -> Result:
        self._gate()
        self.store.update(request.user, request.params["chat"], request.json())
        return 204, None

    def messages(self, request: Request) -> Result:
        self._gate()
        return 200, self.store.messages(request.user, request.params["chat"], request.query)

    def send(self, request: Request) -> Result:
        self._gate()
        return 200, self.store.send(request.user, request.params["chat"], request.json())

    def prompts(self, request: Request) -> Result:
        self._gate()
        return 200, self.store.prompts(request.user, request.params["chat"], request.query)

    def interrupt(self, request: Request) -> Result:
        self._gate()
        return 200, self.store.interrupt(request.user, request.params["chat"])

    def unqueue(self, request: Request) -> Result:
        self._gate()
        self.store.unqueue(request.user, request.params["chat"], request.params["queued"])
        return 204, None


def install(api: Api, store: ChatStore) -> None:
    """Add the chat routes of `store`'s generation to `api`'s route table."""
    api.routes.extend(ChatRoutes(store).routes())
