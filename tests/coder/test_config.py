"""Connection discovery: flags, environment, the Coder CLI config dir, headers, CA bundles."""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

import pytest

from runner.coder.config import (
    NO_DEPLOYMENT,
    check_ca_bundle,
    default_config_dir,
    parse_header_env,
    resolve_connection,
)
from runner.errors import ConfigError
from runner.secrets import redact

CA_PEM = Path(__file__).with_name("data") / "test-ca.pem"


def login_dir(
    tmp_path: Path, url: str = "https://from-file.example.com\n", token: str = ""
) -> Path:
    directory = tmp_path / "coderv2"
    directory.mkdir()
    (directory / "url").write_text(url)
    if token:
        (directory / "session").write_text(token + "\n")
    return directory


def resolve(**kwargs: object) -> object:
    kwargs.setdefault("url", None)
    kwargs.setdefault("token", None)
    kwargs.setdefault("environ", {})
    return resolve_connection(**kwargs)  # type: ignore[arg-type]


def test_flags_win_over_environment_and_files(tmp_path: Path) -> None:
    directory = login_dir(tmp_path, token="file-token-1234")
    env = {"CODER_URL": "https://env.example.com", "CODER_SESSION_TOKEN": "env-token-1234"}
    conn = resolve_connection(
        url="https://flag.example.com/",
        token="flag-token-1234",
        config_dir=str(directory),
        environ=env,
    )
    assert conn.url == "https://flag.example.com"
    assert conn.token == "flag-token-1234"


def test_environment_wins_over_config_dir(tmp_path: Path) -> None:
    directory = login_dir(tmp_path, token="file-token-1234")
    env = {
        "CODER_URL": "https://env.example.com",
        "CODER_SESSION_TOKEN": "env-token-1234",
        "CODER_CONFIG_DIR": str(directory),
    }
    conn = resolve_connection(url=None, token=None, environ=env)
    assert (conn.url, conn.token) == ("https://env.example.com", "env-token-1234")


def test_coder_login_files_are_enough(tmp_path: Path) -> None:
    directory = login_dir(tmp_path, token="  file-token-1234  ")
    conn = resolve_connection(url=None, token=None, environ={"CODER_CONFIG_DIR": str(directory)})
    assert conn.url == "https://from-file.example.com"
    assert conn.token == "file-token-1234"


def test_config_dir_flag_beats_coder_config_dir_env(tmp_path: Path) -> None:
    chosen = login_dir(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "url").write_text("https://other.example.com")
    conn = resolve_connection(
        url=None, token=None, config_dir=str(chosen), environ={"CODER_CONFIG_DIR": str(other)}
    )
    assert conn.url == "https://from-file.example.com"


def test_url_and_token_resolve_independently(tmp_path: Path) -> None:
    directory = login_dir(tmp_path, token="file-token-1234")
    conn = resolve_connection(
        url="https://flag.example.com", token=None, config_dir=str(directory), environ={}
    )
    assert (conn.url, conn.token) == ("https://flag.example.com", "file-token-1234")


def test_missing_token_is_tolerated_like_coder(tmp_path: Path) -> None:
    conn = resolve_connection(
        url="https://x.example.com", token=None, config_dir=str(tmp_path), environ={}
    )
    assert conn.token == ""


def test_default_dir_follows_xdg_config_home(tmp_path: Path) -> None:
    login_dir(tmp_path)
    conn = resolve_connection(url=None, token=None, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert conn.url == "https://from-file.example.com"


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, "/home/u/.config/coderv2"),
        ("linux", {"XDG_CONFIG_HOME": "/xdg"}, "/xdg/coderv2"),
        ("linux", {"XDG_CONFIG_HOME": "relative"}, "/home/u/.config/coderv2"),
        ("darwin", {"XDG_CONFIG_HOME": "/xdg"}, "/home/u/Library/Application Support/coderv2"),
        ("win32", {"APPDATA": "/appdata"}, "/appdata/coderv2"),
    ],
)
def test_default_config_dir_per_os(platform: str, environ: dict[str, str], expected: str) -> None:
    assert default_config_dir(environ, platform=platform, home=Path("/home/u")) == Path(expected)


def test_nothing_configured_names_every_way(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_connection(url=None, token=None, config_dir=str(tmp_path / "none"), environ={})
    message = caught.value.message
    assert message == NO_DEPLOYMENT
    for needle in ("--url", "CODER_URL", "coder login", "--sim"):
        assert needle in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "bad",
    ["coder.example.com", "ftp://coder.example.com", "https://", "http://:80", "https://x:99999"],
)
def test_malformed_url_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="invalid deployment URL"):
        resolve(url=bad)


def test_headers_from_flags_override_coder_header_env() -> None:
    conn = resolve_connection(
        url="https://x.example.com",
        token="t",
        headers=["X-One=1", "X-Two=a=b"],
        environ={"CODER_HEADER": "X-Env=no"},
    )
    assert conn.headers == (("X-One", "1"), ("X-Two", "a=b"))


def test_coder_header_env_is_comma_separated() -> None:
    conn = resolve_connection(
        url="https://x.example.com",
        token="t",
        environ={"CODER_HEADER": 'X-One=1,X-Two=2,"X-Three=a,b"'},
    )
    assert conn.headers == (("X-One", "1"), ("X-Two", "2"), ("X-Three", "a,b"))
    assert parse_header_env("  ") == []


@pytest.mark.parametrize("bad", ["no-equals", "=value", "Bad Name=1"])
def test_malformed_header_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="--header"):
        resolve(url="https://x.example.com", headers=[bad])


@pytest.mark.skipif(os.name == "nt", reason="uses sh")
def test_header_command_lines_become_headers_and_see_coder_url(tmp_path: Path) -> None:
    script = tmp_path / "headers.sh"
    script.write_text('echo "X-Url=$CODER_URL"\necho\necho "Authorization=Bearer cmd-secret-99"\n')
    conn = resolve_connection(
        url="https://x.example.com",
        token="t",
        headers=["X-Flag=1"],
        header_command=f"sh {shlex.quote(str(script))}",
        environ={"PATH": os.environ.get("PATH", "")},
    )
    assert conn.headers == (
        ("X-Flag", "1"),
        ("X-Url", "https://x.example.com"),
        ("Authorization", "Bearer cmd-secret-99"),
    )
    # Credentials from a header command never reach the terminal either.
    assert "cmd-secret-99" not in redact("header was Bearer cmd-secret-99")


@pytest.mark.skipif(os.name == "nt", reason="uses sh")
def test_header_command_from_environment(tmp_path: Path) -> None:
    conn = resolve_connection(
        url="https://x.example.com",
        token="t",
        environ={"CODER_HEADER_COMMAND": "echo X-Env-Cmd=7", "PATH": os.environ.get("PATH", "")},
    )
    assert conn.headers == (("X-Env-Cmd", "7"),)


@pytest.mark.skipif(os.name == "nt", reason="uses sh")
@pytest.mark.parametrize(
    ("command", "needle"),
    [("exit 3", "exit status 3"), ("echo not-a-header", "--header-command")],
)
def test_header_command_failures_are_config_errors(command: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        resolve(
            url="https://x.example.com",
            header_command=command,
            environ={"PATH": os.environ.get("PATH", "")},
        )


def test_token_is_registered_as_secret() -> None:
    resolve(url="https://x.example.com", token="tok-abcdef-registered")
    assert redact("sent tok-abcdef-registered") == "sent ********"


def test_ca_bundle_missing_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(url="https://x.example.com", ca_bundle=str(tmp_path / "nope.pem"))


def test_ca_bundle_from_ssl_cert_file_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(url="https://x.example.com", environ={"SSL_CERT_FILE": str(tmp_path / "gone")})


def test_ca_bundle_is_not_read_for_plain_http(tmp_path: Path) -> None:
    # A stale SSL_CERT_FILE cannot matter to an http deployment, and reading it costs start-up.
    connection = resolve(
        url="http://x.example.com", environ={"SSL_CERT_FILE": str(tmp_path / "gone")}
    )
    assert connection.url == "http://x.example.com"


def test_ca_bundle_that_is_not_pem_is_a_config_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="no usable PEM"):
        resolve(url="https://x.example.com", ca_bundle=str(junk))


@pytest.mark.skipif(os.name == "nt", reason="file modes do not lock a file on Windows")
def test_unreadable_ca_bundle_is_a_config_error() -> None:
    # Not under pytest's private tmp_path: an unprivileged user must be able to reach the file.
    with tempfile.TemporaryDirectory() as directory:
        Path(directory).chmod(0o755)
        check_unreadable_ca_bundle(Path(directory) / "locked.pem")


def check_unreadable_ca_bundle(locked: Path) -> None:
    locked.write_text(CA_PEM.read_text())
    locked.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(ConfigError, match=r"CA bundle .* not readable"):
            resolve(url="https://x.example.com", ca_bundle=str(locked))
        return
    # Root reads any file: check it as an unprivileged user in a child process instead.
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            # The check itself: resolving would also read root's Coder config, denied here.
            check_ca_bundle(str(locked))
        except ConfigError as error:
            code = 0 if "not readable" in error.message else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_valid_ca_bundle_param_beats_ssl_cert_file(tmp_path: Path) -> None:
    conn = resolve_connection(
        url="https://x.example.com",
        token="t",
        ca_bundle=str(CA_PEM),
        environ={"SSL_CERT_FILE": str(tmp_path / "ignored")},
    )
    assert conn.ca_bundle == str(CA_PEM)


def test_connection_repr_hides_token() -> None:
    conn = resolve(url="https://x.example.com", token="repr-token-5678")
    assert "repr-token-5678" not in repr(conn)


def test_config_file_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    directory = tmp_path / "cfg"
    (directory / "url").mkdir(parents=True)
    with pytest.raises(ConfigError, match="cannot read"):
        resolve(config_dir=str(directory))


def test_platform_default_is_used_without_overrides() -> None:
    if sys.platform.startswith("linux"):
        assert default_config_dir({}, home=Path("/h")) == Path("/h/.config/coderv2")


def test_a_stale_ssl_cert_file_is_named_as_the_source(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.pem")
    with pytest.raises(ConfigError, match=r"\(from SSL_CERT_FILE\) does not exist"):
        resolve(url="https://x.example.com", environ={"SSL_CERT_FILE": missing})
    with pytest.raises(ConfigError, match=r"\(from --ca-bundle/TASKS_CA_BUNDLE\) does not"):
        resolve(url="https://x.example.com", ca_bundle=missing)


def test_an_unparsable_url_says_what_is_expected() -> None:
    with pytest.raises(ConfigError, match=r"Invalid IPv6 URL; expected http\(s\)://host\[:port\]"):
        resolve(url="http://[::1")
