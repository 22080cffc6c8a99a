"""A task's status `uri` as a pull request: the forms of GitHub, GitLab, Bitbucket and Azure
DevOps on any host; anything else is no pull request."""

from __future__ import annotations

import pytest

from runner.backends.pull_requests import pull_request_from_uri


@pytest.mark.parametrize(
    "uri",
    [
        "https://github.com/coder/coder/pull/21053",
        "https://github.com/coder/coder/pull/21053/files",
        "https://github.example.com/team/api/pull/7?w=1#diff",
        "https://gitlab.com/group/sub/project/-/merge_requests/12",
        "https://gitlab.example.com/group/project/-/merge_requests/3/diffs",
        "https://bitbucket.org/workspace/repo/pull-requests/4",
        "https://bitbucket.example.com/projects/PRJ/repos/api/pull-requests/9/overview",
        "https://dev.azure.com/org/project/_git/repo/pullrequest/15",
        "https://org.visualstudio.com/project/_git/repo/pullrequest/15",
    ],
)
def test_pull_and_merge_request_links(uri: str) -> None:
    found = pull_request_from_uri(uri)
    assert found is not None and found.url == uri and found.state == ""


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "https://github.com/coder/coder",
        "https://github.com/coder/coder/pulls",
        "https://github.com/coder/coder/pull/abc",
        "https://github.com/coder/coder/pull/12abc",
        "https://github.com/coder/coder/issues/12",
        "https://gitlab.com/group/project/-/issues/3",
        "https://dev.azure.com/org/project/_git/repo",
        "http://localhost:3284/status",
        "ftp://github.com/coder/coder/pull/1",
        "github.com/coder/coder/pull/1",
        "http://[::1/pull/1",
    ],
)
def test_other_links_are_no_pull_request(uri: str) -> None:
    assert pull_request_from_uri(uri) is None
