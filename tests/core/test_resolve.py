"""`runner.resolve` on its own, against the simulator's fixed directory (runner/sim/directory.py):
`admin` is only in `coder`; `alice` in `coder` and `research`; `coder/claude-code` has versions
v1 and v2 (active), `coder/docker` is no AI template, and every AI version has the presets `Small`
(the default) and `Large`."""

from __future__ import annotations

from typing import Any

import pytest

from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.errors import NotFoundError
from runner.resolve import (
    NotTaskTemplate,
    OrganizationNotChosen,
    Resolver,
    TemplateNotChosen,
    UnknownOrganization,
    UnknownPreset,
)


@pytest.fixture
def deployment(make_sim: Any) -> Any:
    return make_sim("2.34.2")


def resolver(sim: Any, user: str = "admin") -> Resolver:
    return Resolver(CoderClient(Connection(url=sim.url, token=sim.tokens[user])))


def test_the_only_organization_is_chosen_and_a_named_one_found(deployment: Any) -> None:
    admin = resolver(deployment)
    assert admin.organization(None).name == "coder"
    alice = resolver(deployment, "alice")
    research = alice.organization("research")
    assert alice.organization(research.id) == research
    with pytest.raises(UnknownOrganization):
        alice.organization("nowhere")


def test_several_organizations_are_told_apart_by_the_only_one_holding_the_template(
    deployment: Any,
) -> None:
    alice = resolver(deployment, "alice")
    assert alice.organization(None, "goose").name == "research"
    with pytest.raises(OrganizationNotChosen):
        alice.organization(None, "claude-code")  # both hold one
    with pytest.raises(OrganizationNotChosen):
        alice.organization(None)


def test_versions_and_presets_follow_coders_rules(deployment: Any) -> None:
    admin = resolver(deployment)
    coder = admin.organization(None)
    template = admin.template(coder, "claude-code")
    active = admin.active_task_version(coder, template)
    assert active.id == template.active_version_id and active.name == "v2"
    assert admin.pinned_version(coder, "claude-code", "v1").name == "v1"
    assert admin.preset(active.id, "").name == "Small"  # the default
    assert admin.preset(active.id, "Large").name == "Large"
    with pytest.raises(UnknownPreset):
        admin.preset(active.id, "Huge")
    with pytest.raises(NotTaskTemplate):
        admin.active_task_version(coder, admin.template(coder, "docker"))
    with pytest.raises(TemplateNotChosen):  # research has two task templates
        alice = resolver(deployment, "alice")
        alice.only_task_template(alice.organization("research"))


def test_each_lookup_is_made_once_failures_included(deployment: Any) -> None:
    admin = resolver(deployment)
    coder = admin.organization(None)
    mark = len(deployment.requests)
    for _ in range(3):
        admin.template(coder, "claude-code")
        with pytest.raises(NotFoundError):
            admin.template(coder, "missing")
    paths = [r["path"] for r in deployment.requests[mark:]]
    assert sorted(p.rsplit("/", 1)[-1] for p in paths) == ["claude-code", "missing"]
