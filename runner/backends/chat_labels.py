"""What a chat's labels vouch for, so that a plan over unchanged chats reads no history.

`tasks/spec` hashes what the chat was made from (prompt, template, version, preset); it is set
at create. `tasks/follow-ups` hashes the manifest's follow-ups once every one of them is
delivered: it is written only after the last one was sent, when the history read right before
that send showed all the others delivered. Labels only ever prove delivery; where they do not
(no label, another list of follow-ups, one in flight) the history is read, and every send is
still guarded by a history read right before it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from runner.plan import delivered_count

LABEL_FOLLOW_UPS = "tasks/follow-ups"


def follow_ups_digest(follow_ups: Sequence[str]) -> str:
    """A short stable digest of a list of follow-ups, in order."""
    return hashlib.sha256(json.dumps([f.strip() for f in follow_ups]).encode()).hexdigest()[:16]


def proven_inputs(
    labels: Mapping[str, str], prompt: str, follow_ups: Sequence[str]
) -> tuple[str, ...] | None:
    """The inputs the labels prove delivered (the prompt, then every follow-up), else None.

    The caller has checked `tasks/spec` (the prompt) already.
    """
    if not follow_ups or labels.get(LABEL_FOLLOW_UPS) != follow_ups_digest(follow_ups):
        return None
    return (prompt, *follow_ups)


def completes(inputs: Sequence[str], prompt: str, follow_ups: Sequence[str], text: str) -> bool:
    """Whether sending `text` after `inputs` delivers the last of `follow_ups`."""
    if not follow_ups or text != follow_ups[-1]:
        return False
    return delivered_count(inputs, prompt, follow_ups) == len(follow_ups) - 1
