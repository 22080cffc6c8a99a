"""The session token `coder login` keeps in the OS keyring (CONTRACT 9.2).

From v2.29 Coder's CLI stores the token on macOS and Windows in one keyring entry, service
`coder-v2-credentials`, holding a JSON map keyed by the lower-cased host (with port) of the
deployment URL: `{"host": {"coder_url": ..., "api_token": ...}}`. macOS keeps the base64 of that
JSON as a generic password of account `coder-login-credentials`; Windows keeps the JSON as the
blob of a generic credential whose target is the service name. Followed from Coder's
`cli/sessionstore/` (sessionstore.go, sessionstore_darwin.go, sessionstore_windows.go, v2.29.0
to v2.33.0-rc.1) and `cli/root.go` `ensureTokenBackend`.

Each backend only fetches the stored bytes; parsing is shared. `TASKS_FAKE_KEYRING` names a JSON
file standing in for the OS keyring (`{service: what macOS's `security -w` prints}`), so the
whole lookup can be exercised on any OS; it exists for tests.
"""

from __future__ import annotations

import base64
import binascii
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from runner.errors import ConfigError

SERVICE = "coder-v2-credentials"
MAC_ACCOUNT = "coder-login-credentials"
MAC_SECURITY = "/usr/bin/security"
FAKE_KEYRING_ENV = "TASKS_FAKE_KEYRING"
#: How long the keychain tool may take (it can prompt for access on a locked keychain).
SECURITY_TIMEOUT_SECONDS = 30.0


class KeyringBackend(Protocol):
    """One OS keyring: the stored JSON for a service, None when there is no entry."""

    description: str

    def read(self, service: str) -> bytes | None: ...


class MacKeychain:
    """The login keychain through `/usr/bin/security`, as Coder's CLI reads it."""

    description = "the macOS login keychain"

    def read(self, service: str) -> bytes | None:
        command = [MAC_SECURITY, "find-generic-password", "-s", service, "-wa", MAC_ACCOUNT]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=SECURITY_TIMEOUT_SECONDS
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _unreadable(self.description, str(exc)) from None
        if done.returncode != 0:
            if "could not be found" in done.stdout + done.stderr:
                return None
            raise _unreadable(self.description, f"security exited with {done.returncode}")
        return decode_keychain_password(done.stdout, self.description)


class WindowsCredentials:
    """Windows Credential Manager through advapi32's CredReadW (no extra dependency)."""

    description = "the Windows Credential Manager"

    def read(self, service: str) -> bytes | None:  # pragma: no cover - Windows only
        import ctypes
        from ctypes import wintypes

        class Credential(ctypes.Structure):
            _fields_ = [
                ("Flags", wintypes.DWORD),
                ("Type", wintypes.DWORD),
                ("TargetName", wintypes.LPWSTR),
                ("Comment", wintypes.LPWSTR),
                ("LastWritten", wintypes.FILETIME),
                ("CredentialBlobSize", wintypes.DWORD),
                ("CredentialBlob", ctypes.POINTER(ctypes.c_ubyte)),
                ("Persist", wintypes.DWORD),
                ("AttributeCount", wintypes.DWORD),
                ("Attributes", ctypes.c_void_p),
                ("TargetAlias", wintypes.LPWSTR),
                ("UserName", wintypes.LPWSTR),
            ]

        generic, not_found = 1, 1168  # CRED_TYPE_GENERIC, ERROR_NOT_FOUND
        advapi = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
        pointer = ctypes.POINTER(Credential)()
        if not advapi.CredReadW(service, generic, 0, ctypes.byref(pointer)):
            error = ctypes.get_last_error()  # type: ignore[attr-defined]
            if error == not_found:
                return None
            raise _unreadable(self.description, f"CredReadW failed with error {error}")
        try:
            cred = pointer.contents
            return bytes(cred.CredentialBlob[: cred.CredentialBlobSize])
        finally:
            advapi.CredFree(pointer)


class FakeKeyring:
    """A JSON file standing in for the macOS keychain: `{service: base64 of the JSON}`."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.description = f"the keyring stand-in {path} ({FAKE_KEYRING_ENV})"

    def read(self, service: str) -> bytes | None:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise _unreadable(self.description, str(exc)) from None
        value = entries.get(service) if isinstance(entries, dict) else None
        if not isinstance(value, str):
            return None
        return decode_keychain_password(value, self.description)


def os_keyring(environ: Mapping[str, str], *, platform: str | None = None) -> KeyringBackend | None:
    """The keyring Coder's CLI would use on this OS; None where it uses the file (Linux)."""
    fake = environ.get(FAKE_KEYRING_ENV, "").strip()
    if fake:
        return FakeKeyring(fake)
    system = platform or sys.platform
    if system == "darwin":
        return MacKeychain()
    if system.startswith("win"):
        return WindowsCredentials()
    return None


def decode_keychain_password(text: str, where: str) -> bytes:
    """macOS keeps the base64 of the JSON (so `security -w` never hex-encodes it)."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"cannot read the Coder login in {where}: it is not base64") from None


def token_for(stored: bytes, url: str, where: str) -> str | None:
    """The token stored for `url`'s host in the keyring's JSON map; None when not there."""
    if not stored.strip():
        return None
    try:
        entries = json.loads(stored)
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"cannot read the Coder login in {where}: it is not JSON") from None
    if not isinstance(entries, dict):
        raise ConfigError(f"cannot read the Coder login in {where}: expected a JSON object")
    entry = entries.get(host_key(url))
    token = entry.get("api_token") if isinstance(entry, dict) else None
    return token.strip() or None if isinstance(token, str) else None


def host_key(url: str) -> str:
    """Coder's map key: the URL's host with port as written, lower-cased (Go's `url.Host`)."""
    netloc = urlsplit(url).netloc
    return netloc.rpartition("@")[2].strip().lower()


def use_keyring_setting(environ: Mapping[str, str]) -> bool:
    """`CODER_USE_KEYRING`, true by default; parsed like Go's strconv.ParseBool."""
    raw = environ.get("CODER_USE_KEYRING", "").strip()
    if not raw:
        return True
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ConfigError(f"invalid CODER_USE_KEYRING {raw!r}: expected true or false")


def _unreadable(where: str, reason: str) -> ConfigError:
    return ConfigError(
        f"cannot read the Coder login in {where}: {reason}; set CODER_SESSION_TOKEN, "
        "or CODER_USE_KEYRING=false to use the `session` file"
    )
