"""The chat routes of the simulated API, registered on the shared route table per generation.

v2.32 and v2.33 without the `agents` experiment answer every chat route with Coder's
`RequireExperiment` 403 (`coderd/httpmw/experiments.go` at v2.33.0-rc.1); v2.31 and older have no
chat route at all, so chi's `Route not found.` 404 answers.
"""

from __future__ import annotations

from runner.sim.apierror import ROUTE_NOT_FOUND, ApiError, not_found
from runner.sim.chats.generation import V2
from runner.sim.chats.models import model_configs_json, org_models_json
from runner.sim.chats.store import ChatStore
from runner.sim.faults import Faults
from runner.sim.routes import Api, Request, Result, Route, _pattern

#: Segments GA reserves under `/api/v2/chats` so they never reach `{chat}`: 404 (CHATS-CONTRACT
#: 1.11 and section 4).
RESERVED_V2 = ("models", "model-configs", "providers", "user-provider-configs")

AGENTS_GATE = "Agents functionality requires enabling the 'agents' experiment."


class ChatRoutes:
    """Handlers binding HTTP requests to the chat store."""

    def __init__(self, store: ChatStore, faults: Faults) -> None:
        self.store = store
        self.faults = faults

    def routes(self) -> list[Route]:
        """Every chat route under every prefix this generation serves."""
        gen = self.store.gen
        found: list[Route] = []
        if gen.served and gen.org_models:
            models = "/api/v2/organizations/{organization}/chats/models"
            found.append(Route(_pattern(models), {"GET": self.org_models}))
        for base in gen.prefixes:
            chat = f"{base}/{{chat}}"
            if base == V2:
                found += [Route(_pattern(f"{base}/{r}"), {"GET": _absent}) for r in RESERVED_V2]
            elif not gen.org_models:
                found.append(Route(_pattern(f"{base}/model-configs"), {"GET": self.model_configs}))
            found += [
                Route(_pattern(base), {"GET": self.list, "POST": self.create}),
                Route(_pattern(chat), {"GET": self.get, "PATCH": self.update}),
                Route(_pattern(f"{chat}/messages"), {"GET": self.messages, "POST": self.send}),
                Route(_pattern(f"{chat}/interrupt"), {"POST": self.interrupt}),
                # CHATS-CONTRACT 1.10; 204 as `deleteChatQueuedMessage` in coderd/chats.go
                # (erickirt/coder 12083441).
                Route(_pattern(f"{chat}/queue/{{queued}}"), {"DELETE": self.unqueue}),
            ]
            if gen.prompts:
                found.append(Route(_pattern(f"{chat}/prompts"), {"GET": self.prompts}))
            if gen.cost:
                found.append(Route(_pattern(f"{chat}/cost"), {"GET": self.cost}))
        return found

    def _gate(self) -> None:
        if self.store.gen.gated:
            raise ApiError(403, AGENTS_GATE)

    def list(self, request: Request) -> Result:
        self._gate()
        labels = [v for k, v in request.query_items if k == "label"]
        if self.faults.ignore_label_filter:
            labels = []  # a test-only fault, not Coder's behaviour (runner/sim/faults.py)
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

    def cost(self, request: Request) -> Result:
        with self.store.lock:
            return 200, self.store.cost(request.user, request.params["chat"])

    def model_configs(self, request: Request) -> Result:
        self._gate()
        site_owner = request.user.owner
        return 200, model_configs_json(self.store.gen, self.store.models, site_owner=site_owner)

    def org_models(self, request: Request) -> Result:
        directory = self.store.directory
        org = directory.find_org(request.params["organization"])
        if org is None or not directory.can_see_org(request.user, org):
            raise not_found()
        return 200, org_models_json(org, self.store.models)


def _absent(request: Request) -> Result:
    raise ApiError(404, ROUTE_NOT_FOUND)


def install(api: Api, store: ChatStore, faults: Faults) -> None:
    """Add the chat routes of `store`'s generation to `api`'s route table."""
    api.routes.extend(ChatRoutes(store, faults).routes())
