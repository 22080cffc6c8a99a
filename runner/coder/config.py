"""Where the deployment URL and token come from.

Order: explicit flags, then `CODER_URL`/`CODER_SESSION_TOKEN`, then what `coder login` left:
the `url` file of the Coder CLI's config directory and the token in the OS keyring (macOS and
Windows, Coder v2.29+) or the `session` file, so anyone who ran `coder login` needs nothing else.
Extra headers and the header command follow Coder's CLI (CONTRACT 9.2).
"""

from __future__ import annotations

import csv
import os
import ssl
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from runner.coder import keyring
from runner.errors import ConfigError
from runner.secrets import register_secret

NO_DEPLOYMENT = (
    "no Coder deployment configured: pass --url and --token, set CODER_URL and "
    "CODER_SESSION_TOKEN, run `coder login`, or try --sim"
)

#: Header names whose values are credentials and must never be printed.
_SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "key", "auth", "password")

#: Seconds to open a connection (TCP and TLS) before giving up.
CONNECT_TIMEOUT_SECONDS = 10.0
#: Seconds for a whole request, response body included. Coder's slowest task routes (send,
#: logs) dial the agent with their own 30 s limit (coderd/aitasks.go, v2.31.9), so 60 s never
#: cuts a working answer short yet stops a frozen or trickling server.
REQUEST_TIMEOUT_SECONDS = 60.0

#: How long a header command may run before it counts as failed.
HEADER_COMMAND_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Connection:
    """How to reach one deployment."""

    url: str
    token: str
    headers: tuple[tuple[str, str], ...] = ()
    ca_bundle: str | None = None
    simulated: bool = False
    #: Where the token was looked for, for the error when none was found.
    token_lookup: tuple[str, ...] = ()
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS
    request_timeout: float = REQUEST_TIMEOUT_SECONDS

    def __repr__(self) -> str:  # never show the token
        return f"Connection(url={self.url!r}, simulated={self.simulated})"


def resolve_connection(
    *,
    url: str | None,
    token: str | None,
    headers: Sequence[str] = (),
    header_command: str | None = None,
    config_dir: str | None = None,
    ca_bundle: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Build a Connection from flags, environment and the Coder CLI config directory.

    Raises ConfigError naming every way to configure (flags, env vars, `coder login`, `--sim`)
    when no URL can be found, and for a malformed URL, header, header command or CA bundle.
    """
    env = os.environ if environ is None else environ
    default_dir = default_config_dir(env)
    chosen_dir = _first(config_dir, env.get("CODER_CONFIG_DIR"))
    directory = Path(chosen_dir or default_dir)

    raw_url = _first(url, env.get("CODER_URL")) or _read_config_file(directory / "url")
    if not raw_url:
        raise ConfigError(NO_DEPLOYMENT, details=[f"looked for a `coder login` in {directory}"])
    clean_url = normalize_url(raw_url)
    # A password in the URL (basic auth through a proxy) is as secret as the token.
    register_secret(urlsplit(clean_url).password)

    # A missing token is tolerated, as Coder's CLI does: the server then answers 401.
    session, lookup = _session_token(token, clean_url, env, chosen_dir, directory)
    pairs = _headers(headers, header_command, clean_url, env)

    bundle = _first(ca_bundle, env.get("SSL_CERT_FILE"))
    # Checking a bundle builds a TLS context (~90 ms): plain http never uses one.
    if bundle and clean_url.lower().startswith("https:"):
        # Name the source: a stale SSL_CERT_FILE set for other tools is easy to miss.
        source = "--ca-bundle/TASKS_CA_BUNDLE" if _first(ca_bundle) else "SSL_CERT_FILE"
        check_ca_bundle(bundle, source=source)

    return Connection(
        url=clean_url,
        token=session or "",
        headers=tuple(pairs),
        ca_bundle=bundle or None,
        token_lookup=tuple(lookup),
    )


def _session_token(
    token: str | None,
    clean_url: str,
    env: Mapping[str, str],
    chosen_dir: str | None,
    directory: Path,
) -> tuple[str | None, list[str]]:
    """The session token (flag, environment, `coder login`'s keyring or file) and every place
    looked in, for the hint when none is found."""
    session = _first(token, env.get("CODER_SESSION_TOKEN"))
    lookup: list[str] = ["--token", "CODER_SESSION_TOKEN"]
    if not session:
        store = _login_keyring(env, chosen_dir, default_config_dir(env))
        if store is not None:
            session = keyring.token_for(
                store.read(keyring.SERVICE) or b"", clean_url, store.description
            )
            lookup.append(
                f"{store.description} ({keyring.SERVICE}, host {keyring.host_key(clean_url)})"
            )
        if not session:
            # Also a login by a CLI older than v2.29, which always wrote the file.
            session = _read_config_file(directory / "session")
            lookup.append(str(directory / "session"))
    register_secret(session)
    if session and not sendable_in_header(session):
        # Never quote the value: it is the secret.
        raise ConfigError(
            "the session token (--token, CODER_SESSION_TOKEN or the `session` file) has a "
            "character an HTTP header cannot carry (a line break, control or non-ASCII "
            "character); copy it again"
        )
    return session, lookup


def _headers(
    headers: Sequence[str], header_command: str | None, clean_url: str, env: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The extra headers of every request (flags or CODER_HEADER, then the header command's);
    the values of secret ones are registered for redaction."""
    header_lines = list(headers) if headers else parse_header_env(env.get("CODER_HEADER", ""))
    pairs = [parse_header(line, source="--header/CODER_HEADER") for line in header_lines]
    command = _first(header_command, env.get("CODER_HEADER_COMMAND"))
    if command:
        pairs.extend(run_header_command(command, clean_url, env))
    for name, value in pairs:
        if is_secret_header(name):
            register_secret(value)
    return pairs


def no_token_hint(connection: Connection) -> str:
    """What to do when no token was found, naming where `tasks` looked."""
    looked = "; ".join(connection.token_lookup) or "--token, CODER_SESSION_TOKEN"
    return (
        f"no session token found (looked in: {looked}): run `coder login {connection.url}` "
        "or set CODER_SESSION_TOKEN"
    )


def _login_keyring(
    env: Mapping[str, str], chosen_dir: str | None, default_dir: Path
) -> keyring.KeyringBackend | None:
    """The OS keyring when Coder's CLI would log in there (`ensureTokenBackend`, cli/root.go).

    Not with `CODER_USE_KEYRING=false`, not with a config directory other than the default
    (`--global-config` keeps editor extensions on the file), not on Linux.
    """
    if not keyring.use_keyring_setting(env):
        return None
    if chosen_dir is not None and Path(chosen_dir) != default_dir:
        return None
    return keyring.os_keyring(env)


def default_config_dir(
    environ: Mapping[str, str], *, platform: str | None = None, home: Path | None = None
) -> Path:
    """The Coder CLI's default config directory on this OS (Go's os.UserConfigDir + coderv2)."""
    system = platform or sys.platform
    base_home = home or Path.home()
    if system.startswith("win"):
        appdata = environ.get("APPDATA")
        return Path(appdata) / "coderv2" if appdata else base_home / "AppData/Roaming/coderv2"
    if system == "darwin":
        return base_home / "Library" / "Application Support" / "coderv2"
    xdg = environ.get("XDG_CONFIG_HOME")
    # Go ignores a relative XDG_CONFIG_HOME, as the XDG spec says.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "coderv2"
    return base_home / ".config" / "coderv2"


def normalize_url(raw: str) -> str:
    """The deployment URL without surrounding space or trailing slash; ConfigError if malformed."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as exc:
        raise ConfigError(
            f"invalid deployment URL {text!r}: {exc}; expected http(s)://host[:port], "
            "e.g. https://coder.example.com"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ConfigError(
            f"invalid deployment URL {text!r}: expected http(s)://host[:port], "
            "e.g. https://coder.example.com"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"invalid deployment URL {text!r}: it must not have a query or fragment")
    return text.rstrip("/")


def parse_header_env(value: str) -> list[str]:
    """`CODER_HEADER`'s comma-separated `k=v` list (CSV quoting allowed, as Coder's CLI has it)."""
    if not value.strip():
        return []
    rows = list(csv.reader([value]))
    return [item for item in rows[0] if item.strip()] if rows else []


def parse_header(line: str, *, source: str) -> tuple[str, str]:
    """One `key=value` header; ConfigError naming the source when it is malformed."""
    name, sep, value = line.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ConfigError(f"invalid header {line!r} from {source}: expected key=value")
    if any(ch in name for ch in " \t:\r\n") or not name.isascii():
        raise ConfigError(f"invalid header name {name!r} from {source}")
    if "\n" in value or "\r" in value:
        raise ConfigError(f"invalid header {name!r} from {source}: the value has a line break")
    if not sendable_in_header(value):
        raise ConfigError(
            f"invalid header {name!r} from {source}: the value has a control or non-ASCII "
            "character an HTTP header cannot carry"
        )
    return name, value


def sendable_in_header(value: str) -> bool:
    """Whether `value` can go out as an HTTP header value: printable ASCII (tabs allowed)."""
    return all(" " <= ch <= "~" or ch == "\t" for ch in value)


def run_header_command(command: str, url: str, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Run `--header-command` as Coder's CLI does (a shell, `CODER_URL` set); one k=v per line."""
    shell = ["cmd.exe", "/c", command] if os.name == "nt" else ["sh", "-c", command]
    env = {**environ, "CODER_URL": url}
    try:
        done = subprocess.run(
            shell,
            env=env,
            capture_output=True,
            text=True,
            timeout=HEADER_COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"header command {command!r} did not finish within "
            f"{HEADER_COMMAND_TIMEOUT_SECONDS:.0f} s"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot run header command {command!r}: {exc.strerror}") from None
    if done.returncode != 0:
        raise ConfigError(f"header command {command!r} failed with exit status {done.returncode}")
    source = "--header-command"
    return [parse_header(line, source=source) for line in done.stdout.splitlines() if line.strip()]


def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential that must be redacted."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_HEADER_WORDS)


def check_ca_bundle(path: str, *, source: str = "--ca-bundle") -> None:
    """ConfigError unless `path` is a readable PEM file of CA certificates; names `source`."""
    where = f"CA bundle {path} (from {source})"
    if not os.path.isfile(path):
        raise ConfigError(f"{where} does not exist or is not a file")
    try:
        ssl.create_default_context(cafile=path)
    except PermissionError:
        raise ConfigError(f"{where} is not readable (permission denied)") from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise ConfigError(f"{where} holds no usable PEM certificates: {reason}") from None


def _first(*values: str | None) -> str | None:
    for value in values:
        if value and value.strip():
            return value.strip()
    return None


def _read_config_file(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return text or None
