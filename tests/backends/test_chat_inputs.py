"""Matching a chat's history to the batch's own inputs (CHATS-CONTRACT 7.2).

Histories are built as `GET …/messages` sends them (oldest first here): on v2.32 to v2.34 the
bound workspace's context is a `user` message of `context-file` and `skill` parts with no text
part and no `created_by` (`release/2.32` chatd.go, about line 5255); hook notices may appear
as well.
"""

from __future__ import annotations

from typing import Any

from runner.backends.chat_inputs import answered, typed_inputs
from runner.coder.chat_models import ChatMessage
from runner.plan import delivered_count

PROMPT = "Add auth"
FOLLOW_UPS = ("Add tests.", "Add docs.")


def _message(n: int, role: str, parts: list[dict[str, Any]], by: str | None) -> ChatMessage:
    data: dict[str, Any] = {"id": n, "chat_id": "c", "role": role, "content": parts}
    if by:
        data["created_by"] = by
    return ChatMessage.from_json(data)


def user(n: int, text: str) -> ChatMessage:
    return _message(n, "user", [{"type": "text", "text": text}], "u-1")


def reply(n: int) -> ChatMessage:
    return _message(n, "assistant", [{"type": "text", "text": f"done {n}"}], None)


def context(n: int) -> ChatMessage:
    parts = [
        {"type": "context-file", "text": "", "context_file_path": "/home/coder/AGENTS.md"},
        {"type": "skill", "text": "", "skill_name": "run-tests"},
    ]
    return _message(n, "user", parts, None)


def notice(n: int) -> ChatMessage:
    """A hook notice: not the agent's answer, and not one of the batch's inputs."""
    return _message(n, "user", [{"type": "text", "text": "Hook: pre-commit ran"}], None)


def test_workspace_context_is_not_an_input() -> None:
    history = [user(1, PROMPT), context(2), reply(3), user(4, FOLLOW_UPS[0]), reply(5)]
    inputs = [m.text for m in typed_inputs(history)]
    assert inputs == [PROMPT, FOLLOW_UPS[0]]
    assert delivered_count(inputs, PROMPT, FOLLOW_UPS) == 1


def test_follow_ups_are_matched_by_text_in_order_around_other_messages() -> None:
    history = [
        user(1, PROMPT),
        context(2),
        reply(3),
        notice(4),
        user(5, FOLLOW_UPS[1]),  # someone sent the second one by hand, out of order
        user(6, FOLLOW_UPS[0]),
        reply(7),
    ]
    inputs = [m.text for m in typed_inputs(history)]
    # Only the first follow-up counts: the second is not after it.
    assert delivered_count(inputs, PROMPT, FOLLOW_UPS) == 1


def test_context_before_the_reply_does_not_hold_the_answer_back() -> None:
    assert answered([user(1, PROMPT), context(2), reply(3)], PROMPT)


def test_context_or_a_notice_after_the_reply_does_not_hold_it_back() -> None:
    # The last `user` message is not ours: counting it as ours would wait for ever.
    assert answered([user(1, PROMPT), reply(2), context(3)], PROMPT)
    assert answered([user(1, PROMPT), context(2), reply(3), notice(4)], PROMPT)


def test_an_answer_to_something_else_does_not_stand_in_for_ours() -> None:
    # Our follow-up is still queued (not in the history): the reply to the prompt is not its.
    assert not answered([user(1, PROMPT), context(2), reply(3)], FOLLOW_UPS[0])
    # Our follow-up is in, followed only by the workspace's context and a notice.
    history = [user(1, PROMPT), reply(2), user(3, FOLLOW_UPS[0]), context(4), notice(5)]
    assert not answered(history, FOLLOW_UPS[0])
    assert answered([*history, reply(6)], FOLLOW_UPS[0])


def test_the_newest_copy_of_a_repeated_input_is_the_one_answered() -> None:
    history = [user(1, PROMPT), reply(2), user(3, "continue"), reply(4), user(5, "continue")]
    assert not answered(history, "continue")
    assert answered([*history, reply(6)], "continue")
