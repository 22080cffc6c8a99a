"""What a retry reads back and sends: the attempt a task is at, from its inputs and its display
name, and the message that starts the next one."""

from __future__ import annotations

from runner import ownership
from runner.execute.retries import attempt_of, retry_message
from runner.manifest.model import DesiredTask

TASK = DesiredTask(batch="night", name="auth", prompt="Fix it", retries=2)


def test_the_attempt_is_the_newest_retry_message_or_the_display_name_mark() -> None:
    assert attempt_of(TASK, ["Fix it"], "night: auth") == 1
    inputs = ["Fix it", "more", retry_message(TASK, 2, "x"), "Attempt 3 of 3: again"]
    assert attempt_of(TASK, inputs, "night: auth") == 3
    assert attempt_of(TASK, ["Fix it"], ownership.display_name("night", "auth", 2)) == 2
    assert attempt_of(TASK, ["Fix it"], None) == 1  # no display names (v2.28)
    # A person's words that merely mention an attempt are not a retry message.
    assert attempt_of(TASK, ["Fix it", "Attempt 2 failed, see logs"], "night: auth") == 1


def test_the_message_names_the_attempt_and_what_went_wrong() -> None:
    assert retry_message(TASK, 2, "expectation unmet: message: wanted x, got y") == (
        "Attempt 2 of 3: The last attempt did not succeed (expectation unmet: message: "
        "wanted x, got y). Please try again and finish the task."
    )
    own = DesiredTask(batch="night", name="auth", prompt="Fix it", retries=1, retry_prompt="Again")
    assert retry_message(own, 2, "ignored") == "Attempt 2 of 2: Again"


def test_a_task_made_again_stays_the_batch_s_and_fits_coder_s_display_name() -> None:
    name = ownership.coder_name("night", "auth")
    for attempt in (2, 6):
        marked = ownership.display_name("night", "auth", attempt)
        assert ownership.owns("night", name, marked)
        assert ownership.attempt_of("night", "auth", marked) == attempt
    assert not ownership.owns("night", name, "night: auth #1")
    assert not ownership.owns("night", name, "night: auth (copy)")
    assert len(ownership.display_name("b" * 32, "n" * 25, 6)) <= 64  # CONTRACT 1.3
