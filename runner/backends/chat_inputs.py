"""Which messages of a chat are the batch's inputs, and whether the agent answered the last one.

`GET …/messages` holds more `user` messages than the ones sent: on v2.32 to v2.34 Coder stores
the workspace's context (AGENTS.md, skills) as a `user` message made only of `context-file` and
`skill` parts, with no text part and no `created_by` (CHATS-CONTRACT 7.2), and hook notices may
appear too. So the batch's inputs are matched by their text and in order, never counted as
"every `user` message".
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.coder.chat_models import ChatMessage


def typed_inputs(history: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The `user` messages that carry text: what someone sent, oldest first.

    Coder's stored workspace context has no text part, so it is never one of them.
    """
    return [m for m in history if m.role == "user" and m.text.strip()]


def answered_inputs(history: Sequence[ChatMessage]) -> frozenset[str]:
    """The inputs (stripped) the agent answered: each whose newest `user` message in
    `history` (oldest first) an assistant message follows (see `answered`)."""
    newest: dict[str, int] = {}
    last_answer = -1
    for n, message in enumerate(history):
        if message.role == "user":
            newest[message.text.strip()] = n
        elif message.role == "assistant":
            last_answer = n
    return frozenset(text for text, at in newest.items() if at < last_answer)


def answered(history: Sequence[ChatMessage], last_sent: str) -> bool:
    """Whether an assistant message follows the newest `user` message whose text is
    `last_sent` (the batch's last input), in `history` (oldest first).

    Messages that are not that input (workspace context, hook notices, someone else's words)
    neither hold the answer back nor stand in for it; an input not in the history yet (still
    queued) is not answered.
    """
    return last_sent.strip() in answered_inputs(history)
