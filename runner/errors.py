"""The one exception hierarchy of `tasks`.

Library code raises these; the CLI edge (`runner.cli.main`) renders them once, as a one-line
message plus optional detail lines, and exits with the code the class carries. The exit codes are
the table in the README.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2
EXIT_INVALID_INPUT = 3
EXIT_PARTIAL_FAILURE = 4
EXIT_WAIT_TIMEOUT = 5
EXIT_INTERRUPTED = 130


class TasksError(Exception):
    """Root of every error `tasks` expects. `message` is one line; `details` are extra lines."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, *, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details: tuple[str, ...] = tuple(details)

    def __str__(self) -> str:
        return self.message


class InvalidInputError(TasksError):
    """The user's input (arguments, flags, a manifest) is wrong. Nothing was sent."""

    exit_code = EXIT_INVALID_INPUT


class ConfigError(TasksError):
    """No usable deployment URL or token, or a bad local configuration."""


@dataclass(frozen=True)
class Location:
    """Where in a source file something is: 1-based line and column, and the key path.

    Line 0 means the file as a whole (e.g. it is missing or a directory): only the file is shown;
    column 0 means the line as a whole (e.g. a task entry): `file:line`.
    """

    file: str
    line: int
    column: int
    path: str = ""

    def __str__(self) -> str:
        prefix = self.file
        if self.line > 0:
            prefix += f":{self.line}:{self.column}" if self.column > 0 else f":{self.line}"
        return f"{prefix}: {self.path}" if self.path else prefix


@dataclass(frozen=True)
class LocatedError:
    """One located problem in a manifest, e.g. `batch.yaml:12:7: tasks[2].name: ...`."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ManifestError(InvalidInputError):
    """A manifest has one or more problems; all of them are carried, each located."""

    def __init__(self, errors: Sequence[LocatedError]) -> None:
        count = len(errors)
        first = str(errors[0]) if errors else "invalid manifest"
        summary = first if count == 1 else f"{first} (and {count - 1} more)"
        super().__init__(summary, details=[str(e) for e in errors[1:]])
        self.errors = list(errors)


class ApiError(TasksError):
    """A Coder API request failed with an HTTP status and Coder's error body.

    Carries everything Coder sent: `message`, `detail` and `validations`, plus the request.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        detail: str = "",
        validations: Sequence[tuple[str, str]] = (),
        method: str = "",
        path: str = "",
    ) -> None:
        lines: list[str] = []
        if detail:
            lines.append(f"Error: {detail}")
        lines.extend(f"{f}: {d}" for f, d in validations)
        where = f" ({method} {path})" if method else ""
        super().__init__(f"{message or 'request failed'} [HTTP {status}]{where}", details=lines)
        self.status = status
        self.api_message = message
        self.detail = detail
        self.validations = tuple(validations)
        self.method = method
        self.path = path


class AuthError(ApiError):
    """401: the token is missing, wrong or expired."""


class ForbiddenError(ApiError):
    """403: the token's user may not do this."""


class NotFoundError(ApiError):
    """404: the resource does not exist or the caller may not see it."""


class ConflictError(ApiError):
    """409: e.g. a name already in use, a build already active, a task in the wrong state."""


class NameContradictionError(TasksError):
    """Coder refused a create as "name taken" while its lookup by that owner and name found
    nothing, again and again: trying once more would loop for ever, so the item fails with
    both answers."""

    def __init__(self, what: str, refused: ApiError, missing: ApiError, tries: int) -> None:
        super().__init__(
            f"Coder refused to create {what} as taken ({_answer(refused)}), yet found nothing "
            f"by that owner and name ({_answer(missing)}), {tries} times in a row"
        )
        self.refused = refused
        self.missing = missing


def _answer(error: ApiError) -> str:
    return f'{error.status} "{error.api_message}"'


class AgentBusyError(ApiError):
    """The task's agent is working and cannot take input now (502 before v2.32, 409 from v2.32)."""


class RateLimitedError(ApiError):
    """429 that outlasted the client's patience."""


class ServerError(ApiError):
    """5xx from the deployment."""


class TransportError(TasksError):
    """The deployment could not be reached, or the connection broke."""


class NotSentError(TransportError):
    """No connection could be made: the request provably never reached the server."""


class HostNotFoundError(NotSentError):
    """The deployment's host name does not resolve; repeating will not help."""


class TlsError(NotSentError):
    """The TLS handshake failed (e.g. an untrusted certificate); repeating will not help."""


class ConnectTimeoutError(NotSentError):
    """No connection within the connect timeout."""


class DeadlineExceededError(TransportError):
    """No complete response within the request deadline (a frozen or trickling server)."""


class UncertainOutcomeError(TransportError):
    """A request that changes state was sent but its response was lost: it may have happened."""


class UnsupportedServerError(TasksError):
    """The deployment does not serve Coder Tasks (v2.38+, switched off or not opted in, or older
    than v2.28)."""


class TaskNotFoundError(TasksError):
    """A task identifier matched no task the caller can see."""


class LostContactError(TasksError):
    """Polls kept failing past the grace period: what the tasks did is unknown."""


class DeliveryUnverifiedError(TasksError):
    """What an item received cannot be told completely (e.g. a truncated log snapshot)."""


class InterruptedRunError(TasksError):
    """Ctrl-C or a stop signal ended a run before it changed anything."""

    exit_code = EXIT_INTERRUPTED


class ChatsUnavailableError(UnsupportedServerError):
    """The deployment serves no Chats API (Coder Agents): too old, or the experiment is off."""
