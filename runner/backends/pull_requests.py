"""A pull or merge request in a task's status `uri`: how an agent on Tasks reports one.

Coder Tasks track no pull request; an agent may put a link in its app status report (`uri`,
CONTRACT 2.2), and `current_state.uri` is that of its latest report. Only links of a known
forge's pull request form count, on any host (self-hosted forges keep their paths).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from runner.item import PullRequest

_FORMS = tuple(
    re.compile(path, re.IGNORECASE)
    for path in (
        r"/[^/]+/[^/]+/pull/\d+",  # GitHub: /owner/repo/pull/12
        r"/(?:[^/]+/)+-/merge_requests/\d+",  # GitLab: /group/sub/project/-/merge_requests/3
        r"/[^/]+/[^/]+/pull-requests/\d+",  # Bitbucket Cloud: /workspace/repo/pull-requests/4
        r"/projects/[^/]+/repos/[^/]+/pull-requests/\d+",  # Bitbucket Data Center
        r"/(?:[^/]+/)+_git/[^/]+/pullrequest/\d+",  # Azure DevOps: /org/project/_git/repo/...
    )
)


def pull_request_from_uri(uri: str) -> PullRequest | None:
    """The pull request `uri` links to (state unknown), or None when it links to none."""
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path.rstrip("/")
    for form in _FORMS:
        match = form.match(path)
        # A page of the pull request (`/files`, `/diffs`, `/overview`) is still its link.
        if match and (match.end() == len(path) or path[match.end()] == "/"):
            return PullRequest(url=uri.strip())
    return None
