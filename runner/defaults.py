"""Every default a user can override, in one place (flags, manifests and the simulator read them).

Leaf module: imports nothing from the project, so the CLI, the manifest loader, the executor and
the simulator all take their defaults from here without pulling each other in.
"""

from __future__ import annotations

#: Seconds between polls while waiting (`poll_interval`, `--poll-interval`).
POLL_INTERVAL_SECONDS = 2.0
#: Seconds an idle report must hold before it counts (`idle_grace`, `--idle-grace`).
IDLE_GRACE_SECONDS = 5.0
#: Seconds a task may take to reach its `wait` (`timeout`).
TIMEOUT_SECONDS = 1800.0
#: Requests in flight at once: with per-request latency this stays under Coder's default limit
#: of 512 requests per minute per path even when every worker hits the same path.
PARALLELISM = 4
#: Coder's CLI treats an active task with no state for this long as idle.
NO_STATE_IDLE_AFTER_SECONDS = 30.0
#: How long a task may sit in status error/unknown before a batch gives up on it.
BROKEN_AFTER_SECONDS = 60.0
#: Seconds polls may fail in a row before an apply stops: "lost contact" (`lost_contact_after`).
LOST_CONTACT_AFTER_SECONDS = 180.0
#: Polls between the progress lines a waiting apply prints when not on a terminal (30 s at 2 s).
PROGRESS_EVERY_POLLS = 15
#: The Coder release the simulator plays unless told otherwise.
SIM_CODER_VERSION = "2.34.2"
