"""Clean-up once a task's outcome is final (`after: stop | remove`): what both backends share.

A clean-up is one attempt. A stop or delete build refused with 409 while another build of the
workspace runs (Coder's `postWorkspaceBuilds` and `pauseTask`), or an archive refused while
Coder still interrupts the chat, is raised as it is: the run asks again after a pause
(runner/execute/cleanup.py), so no worker waits it out.
"""

from __future__ import annotations

#: Workspace states in which a stop (or a delete) is already under way or done.
STOPPED_WORKSPACE = frozenset({"stopping", "stopped", "deleting", "deleted"})
#: What `clean_up` reports it did.
STOPPED = "stopped"
REMOVED = "removed"
