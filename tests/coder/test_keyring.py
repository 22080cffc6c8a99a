"""`coder login` on macOS and Windows: the token in the OS keyring (CONTRACT 9.2).

Layout and selection follow Coder's `cli/sessionstore/sessionstore.go`,
`sessionstore_darwin.go`, `sessionstore_windows.go` and `cli/root.go` `ensureTokenBackend`
(v2.29.0, unchanged to v2.33.0-rc.1). On Linux the OS keyring is replaced by the
`TASKS_FAKE_KEYRING` stand-in, which holds what macOS's `security -w` prints.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from runner.coder.config import default_config_dir, resolve_connection
from runner.coder.keyring import FAKE_KEYRING_ENV, SERVICE, host_key, token_for
from runner.errors import ConfigError
from tests.conftest import run_tasks


def keyring_file(tmp_path: Path, entries: dict[str, Any], *, raw: str | None = None) -> Path:
    """A keyring stand-in holding one `coder-v2-credentials` entry, base64 as on macOS."""
    stored = raw if raw is not None else base64.b64encode(json.dumps(entries).encode()).decode()
    path = tmp_path / "keyring.json"
    path.write_text(json.dumps({SERVICE: stored}))
    return path


def xdg(tmp_path: Path) -> dict[str, str]:
    """A default config directory under tmp_path (Linux's XDG rule), not the real home."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def login(url: str, token: str) -> dict[str, Any]:
    return {host_key(url): {"coder_url": host_key(url), "api_token": token}}


def test_host_key_is_the_lower_cased_host_with_port() -> None:
    assert host_key("https://Coder.Example.COM:8443") == "coder.example.com:8443"
    assert host_key("https://user:pw@Coder.example.com") == "coder.example.com"
    assert host_key("http://127.0.0.1:3000") == "127.0.0.1:3000"


def test_the_map_is_shared_by_deployments() -> None:
    stored = json.dumps(
        {**login("https://a.example.com", "tok-a"), **login("https://b.example.com", "tok-b")}
    ).encode()
    assert token_for(stored, "https://B.example.com", "x") == "tok-b"
    assert token_for(stored, "https://c.example.com", "x") is None


def test_keyring_token_is_used_without_session_file(tmp_path: Path) -> None:
    url = "https://coder.example.com"
    fake = keyring_file(tmp_path, login(url, "keyring-token-1"))
    conn = resolve_connection(
        url=url, token=None, environ={FAKE_KEYRING_ENV: str(fake), **xdg(tmp_path)}
    )
    assert conn.token == "keyring-token-1"


def test_environment_token_wins_over_keyring(tmp_path: Path) -> None:
    url = "https://coder.example.com"
    fake = keyring_file(tmp_path, login(url, "keyring-token-1"))
    env = {FAKE_KEYRING_ENV: str(fake), "CODER_SESSION_TOKEN": "env-token-1"}
    assert resolve_connection(url=url, token=None, environ=env).token == "env-token-1"


@pytest.mark.parametrize("value", ["false", "0", "F"])
def test_coder_use_keyring_false_means_the_file(tmp_path: Path, value: str) -> None:
    url = "https://coder.example.com"
    fake = keyring_file(tmp_path, login(url, "keyring-token-1"))
    env = {FAKE_KEYRING_ENV: str(fake), "CODER_USE_KEYRING": value, **xdg(tmp_path)}
    directory = default_config_dir(env, platform="linux")
    directory.mkdir(parents=True)
    (directory / "session").write_text("file-token-1\n")
    conn = resolve_connection(url=url, token=None, environ=env)
    assert conn.token == "file-token-1"


def test_global_config_means_the_file_as_in_coder(tmp_path: Path) -> None:
    url = "https://coder.example.com"
    fake = keyring_file(tmp_path, login(url, "keyring-token-1"))
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "session").write_text("file-token-2\n")
    env = {FAKE_KEYRING_ENV: str(fake)}
    assert resolve_connection(url=url, token=None, config_dir=str(other), environ=env).token == (
        "file-token-2"
    )
    env["CODER_CONFIG_DIR"] = str(other)
    assert resolve_connection(url=url, token=None, environ=env).token == "file-token-2"


def test_a_login_by_an_older_cli_in_the_session_file_is_still_found(tmp_path: Path) -> None:
    url = "https://coder.example.com"
    fake = keyring_file(tmp_path, login("https://other.example.com", "other"))
    env = {FAKE_KEYRING_ENV: str(fake), **xdg(tmp_path)}
    directory = default_config_dir(env, platform="linux")
    directory.mkdir(parents=True)
    (directory / "session").write_text("file-token-3\n")
    conn = resolve_connection(url=url, token=None, environ=env)
    assert conn.token == "file-token-3"
    assert any("coder-v2-credentials" in place for place in conn.token_lookup)


def test_linux_without_a_keyring_reads_the_file_only(tmp_path: Path) -> None:
    conn = resolve_connection(url="https://x.example.com", token=None, environ={})
    assert not any(SERVICE in place for place in conn.token_lookup)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [("%%%not-base64", "not base64"), (base64.b64encode(b"{oops").decode(), "not JSON")],
)
def test_a_garbled_keyring_entry_is_one_config_error(tmp_path: Path, raw: str, needle: str) -> None:
    fake = keyring_file(tmp_path, {}, raw=raw)
    with pytest.raises(ConfigError, match=needle):
        resolve_connection(
            url="https://x.example.com", token=None, environ={FAKE_KEYRING_ENV: str(fake)}
        )


def test_invalid_coder_use_keyring_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CODER_USE_KEYRING"):
        resolve_connection(
            url="https://x.example.com", token=None, environ={"CODER_USE_KEYRING": "maybe"}
        )


def test_keyring_login_works_end_to_end(make_sim: Any, tmp_path: Path) -> None:
    """The real `tasks` command, the URL in the env and the token only in the keyring."""
    server = make_sim("2.34.2")
    fake = keyring_file(tmp_path, login(server.url, server.token))
    env = {"CODER_URL": server.url, FAKE_KEYRING_ENV: str(fake)}
    created = run_tasks(["create", "--template", "claude-code", "--name", "kr", "hi"], env=env)
    assert created.code == 0, created.output
    listed = run_tasks(["list", "-o", "json"], env=env)
    assert listed.code == 0, listed.output
    assert [task["name"] for task in json.loads(listed.stdout)] == ["kr"]
    assert server.token not in listed.output


def test_no_token_anywhere_says_where_it_looked(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim("2.34.2")
    fake = keyring_file(tmp_path, login("https://someone-else.example.com", "x"))
    result = run_tasks(["list"], env={"CODER_URL": server.url, FAKE_KEYRING_ENV: str(fake)})
    assert result.code == 1
    hint = result.stderr.splitlines()[-1]
    assert "coder login" in hint and "CODER_SESSION_TOKEN" in hint
    assert f"{SERVICE}, host {host_key(server.url)}" in hint
    assert "/nonexistent-home/.config/coderv2/session" in hint
