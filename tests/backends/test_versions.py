"""The record of what creates showed about template versions, shared by one apply's tasks."""

from __future__ import annotations

from runner.backends.versions import VersionVerdicts


def test_a_pinned_version_is_tried_by_one_create_until_a_verdict() -> None:
    verdicts = VersionVerdicts()
    assert verdicts.claim("v", judged_before=False)
    assert not verdicts.claim("v", judged_before=False)  # the others wait
    assert verdicts.claim("v", judged_before=True)  # a version preflight judged never waits
    verdicts.settle("v", claimed=True, refused="no AI task")
    assert verdicts.refusal("v") == "no AI task"


def test_an_accepted_version_lets_every_create_go() -> None:
    verdicts = VersionVerdicts()
    assert verdicts.claim("v", judged_before=False)
    verdicts.settle("v", claimed=True, accepted=True)
    assert verdicts.claim("v", judged_before=False)
    assert verdicts.claim("v", judged_before=False)
    assert verdicts.refusal("v") is None


def test_an_unknown_outcome_hands_the_try_to_the_next_create() -> None:
    verdicts = VersionVerdicts()
    assert verdicts.claim("v", judged_before=False)
    # A create of the same version that did not claim it leaves the claim alone.
    verdicts.settle("v", claimed=False)
    assert not verdicts.claim("v", judged_before=False)
    verdicts.settle("v", claimed=True)  # e.g. the response was lost
    assert verdicts.claim("v", judged_before=False)
    assert verdicts.refusal("v") is None
