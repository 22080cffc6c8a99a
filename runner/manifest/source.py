"""Reading a manifest file safely: every check that must happen before a YAML parser sees it.

libyaml's C parser recurses once per nesting level and crashes the whole process on very deep
input, so size and nesting are bounded here, with a cheap scan, before any parsing.
"""

from __future__ import annotations

import os
import re

from runner.errors import LocatedError, Location, ManifestError

#: Larger files are refused unread: a batch of 10,000 tasks is about 2.5 MB.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Deepest flow (`[`/`{`) or same-line block (`- - -`) nesting accepted by the pre-parse scan.
MAX_SCAN_DEPTH = 200

_FLOW_BRACKETS = re.compile(r"[\[\]{}]")
_INLINE_BLOCK_RUN = re.compile(rf"(?:[-?:][ \t]+){{{MAX_SCAN_DEPTH}}}")


def read_source(path: str) -> str:
    """The text of the manifest at `path`, or ManifestError saying why it cannot be one."""
    try:
        if os.path.isdir(path):
            raise _file_error(path, "is a directory, not a manifest file")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise _file_error(
                path, f"is {size:,} bytes; manifests may be at most {MAX_FILE_BYTES:,}"
            )
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _file_error(path, "no such file") from None
    except PermissionError:
        raise _file_error(path, "permission denied") from None
    except OSError as error:
        raise _file_error(path, f"cannot be read: {error.strerror or error}") from None
    return check_source(path, data)


def check_source(path: str, data: bytes) -> str:
    """The manifest text in `data` (read from `path`), checked before any parser sees it."""
    if len(data) > MAX_FILE_BYTES:  # grew since stat, or a special file
        raise _file_error(path, f"is larger than {MAX_FILE_BYTES:,} bytes")
    text = decode(path, data)
    check_nesting(path, text)
    return text


def decode(path: str, data: bytes) -> str:
    """UTF-8 text (a BOM is allowed); binary data gives a located error."""
    nul = data.find(b"\0")
    if nul >= 0:
        line, column = _position(data, nul)
        raise _located(path, line, column, "binary data (a NUL byte); a manifest is UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _position(data, error.start)
        raise _located(
            path, line, column, f"invalid UTF-8 (byte 0x{data[error.start]:02x}); save it as UTF-8"
        ) from None


def check_nesting(path: str, text: str) -> None:
    """Refuse text nested deeper than the YAML parser can take, before parsing it."""
    match = _INLINE_BLOCK_RUN.search(text)
    if match:
        line, column = _text_position(text, match.start())
        raise _located(path, line, column, f"nested more than {MAX_SCAN_DEPTH} levels deep")
    # Depth can only exceed the limit when there are that many opening brackets at all.
    if text.count("[") + text.count("{") <= MAX_SCAN_DEPTH:
        return
    depth = 0
    for bracket in _FLOW_BRACKETS.finditer(text):
        if bracket.group() in "[{":
            depth += 1
            if depth > MAX_SCAN_DEPTH:
                line, column = _text_position(text, bracket.start())
                raise _located(path, line, column, f"nested more than {MAX_SCAN_DEPTH} levels deep")
        elif depth:
            depth -= 1


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _text_position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _located(path: str, line: int, column: int, message: str) -> ManifestError:
    return ManifestError([LocatedError(Location(path, line, column), message)])


def _file_error(path: str, message: str) -> ManifestError:
    return _located(path, 0, 0, message)
