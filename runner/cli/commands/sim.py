"""`tasks sim`: serve a simulated Coder deployment until interrupted."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import click

from runner import defaults
from runner.errors import InvalidInputError


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidInputError(message)


def _number(kind: type[int] | type[float]) -> Any:
    """A callback parsing an option as `kind`; a bad value is a one-line error (exit 3)."""
    noun = "an integer" if kind is int else "a number"

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            option = param.opts[0] if param.opts else param.name
            raise InvalidInputError(f"{option}: {value!r} is not {noun}") from None

    return convert


def _numeric(kind: type[int] | type[float], default: str | None) -> dict[str, Any]:
    """Option settings for a number parsed by `_number` (click's own type errors are 3 lines)."""
    return {
        "type": str,
        "default": default,
        "callback": _number(kind),
        "metavar": "N" if kind is int else "F",
    }


@click.command("sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", **_numeric(int, "0"), help="Port to listen on (0 picks a free one).")
@click.option(
    "--coder-version",
    default=defaults.SIM_CODER_VERSION,
    show_default=True,
    help="Coder release to imitate: 2.28.x (experimental API), 2.29+ (GA), 2.32+ (Chats), "
    "2.37 (Tasks only with --enable-ai-tasks), 2.38+ (no Tasks). A development build such as "
    "v0.0.0-devel+abc123 behaves as 2.34.2 (v2.30.0-devel+abc123 as 2.30.0) and reports itself "
    "as written.",
)
@click.option(
    "--build-version",
    default="",
    metavar="TEXT",
    help="Version the deployment reports in its build info, whatever it imitates: e.g. "
    "--coder-version 2.28.11 --build-version v0.0.0-devel+abc123 is a development build "
    "that serves only the experimental routes.",
)
@click.option("--latency-ms", **_numeric(int, "0"), help="Delay added to every request.")
@click.option(
    "--rate-limit",
    **_numeric(int, "512"),
    show_default=True,
    help="Requests per minute per client and path; <= 0 disables the limit.",
)
@click.option(
    "--time-scale",
    **_numeric(float, "1.0"),
    show_default=True,
    help="Factor on every simulated delay (0.1 runs ten times faster).",
)
@click.option(
    "--enable-ai-tasks/--disable-ai-tasks",
    default=None,
    help="Coder's CODER_ENABLE_AI_TASKS: serve Tasks on 2.37 (off by default there), or "
    "switch them off on 2.36. Earlier releases always serve Tasks; 2.38+ never does.",
)
@click.option(
    "--experiments",
    default="",
    help="Comma-separated experiments to enable, e.g. `agents` (Chats on 2.32 and 2.33).",
)
@click.option(
    "--chat-capacity",
    default=None,
    metavar="ROOT[,SUB]",
    help="Chats worked on at once, deployment-wide (2.37+), as an unlicensed Coder caps them "
    "(5,10): the rest stay running, queued for capacity. Sub-agents default to 10. Off by "
    "default (as on a licensed deployment).",
)
@click.option(
    "--request-price",
    default="0",
    show_default=True,
    help="US dollars the AI Gateway charges per chat model request (one per turn), as the "
    "chat cost route (v2.36+) reports them; 0 prices nothing.",
)
@click.option("--fail-rate", **_numeric(float, "0"), help="Share of requests failed with 503.")
@click.option(
    "--lose-rate", **_numeric(float, "0"), help="Share of responses lost after the work is done."
)
@click.option("--seed", **_numeric(int, None), help="Seed for names, IDs and random faults.")
def command(
    host: str,
    port: int,
    coder_version: str,
    build_version: str,
    latency_ms: int,
    rate_limit: int,
    time_scale: float,
    enable_ai_tasks: bool | None,
    experiments: str,
    chat_capacity: str | None,
    request_price: str,
    fail_rate: float,
    lose_rate: float,
    seed: int | None,
) -> None:
    """Serve a simulated Coder deployment.

    Prints CODER_URL and CODER_SESSION_TOKEN first, so `eval` or a test can pick them up.
    """
    from runner.money import parse_usd
    from runner.sim.server import SimServer

    _check(0 <= port <= 65535, f"--port: {port} is not a port number (0 to 65535)")
    _check(latency_ms >= 0, f"--latency-ms: must be >= 0, got {latency_ms}")
    _check(time_scale > 0, f"--time-scale: must be > 0, got {time_scale}")
    _check(0 <= fail_rate <= 1, f"--fail-rate: must be between 0 and 1, got {fail_rate}")
    _check(0 <= lose_rate <= 1, f"--lose-rate: must be between 0 and 1, got {lose_rate}")
    _check_switch(coder_version, enable_ai_tasks)
    caps = _capacity(chat_capacity)
    try:
        price = parse_usd(request_price.strip())
    except ValueError as error:
        raise InvalidInputError(f"--request-price: {error}") from None
    try:
        server = SimServer(
            coder_version=coder_version,
            host=host,
            port=port,
            latency_ms=latency_ms,
            rate_limit=rate_limit,
            time_scale=time_scale,
            seed=seed,
            enable_ai_tasks=enable_ai_tasks,
            fail_rate=fail_rate,
            lose_rate=lose_rate,
            build_version=build_version.strip(),
            experiments=[e for e in experiments.split(",") if e.strip()],
            chat_capacity=caps,
            request_price_micros=price,
        )
    except ValueError as error:
        flag = "--chat-capacity" if "capacity" in str(error) else "--coder-version"
        raise InvalidInputError(f"{flag}: {error}") from None
    try:
        server.start()
    except OSError as error:
        raise InvalidInputError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    _serve(server, time_scale)


def _serve(server: Any, time_scale: float) -> None:
    """Print the deployment's URL and token, then serve until SIGINT or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Signal handlers can only be installed from the main thread (not, e.g., under a test
    # runner's thread); there Ctrl+C still arrives as KeyboardInterrupt.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
    try:
        click.echo(f"CODER_URL={server.url}")
        click.echo(f"CODER_SESSION_TOKEN={server.token}")
        click.echo(
            f"Simulated Coder deployment ({_shown_version(server)}, time scale {time_scale:g}); "
            "not a real server. Press Ctrl+C to stop."
        )
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()


def _check_switch(coder_version: str, enable_ai_tasks: bool | None) -> None:
    """A Tasks switch the release does not have is a usage error naming the flag."""
    from runner.sim.versions import SimVersion

    try:
        version = SimVersion.parse(coder_version)
    except ValueError:
        return  # reported as --coder-version's below
    try:
        version.serves_tasks(enable_ai_tasks)
    except ValueError as error:
        flag = "--enable-ai-tasks" if enable_ai_tasks else "--disable-ai-tasks"
        raise InvalidInputError(f"{flag}: {error}") from None


def _capacity(value: str | None) -> tuple[int, int] | None:
    """`--chat-capacity ROOT[,SUB]`: root and sub-agent caps (sub-agents 10, Coder's)."""
    if value is None:
        return None
    parts = value.split(",")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    _check(
        len(numbers) in (1, 2) and min(numbers, default=0) >= 1,
        f"--chat-capacity: {value!r} is not ROOT[,SUB] (whole numbers of at least 1)",
    )
    return numbers[0], numbers[1] if len(numbers) == 2 else 10


def _shown_version(server: Any) -> str:
    """`v2.34.2`, or for a development build `v0.0.0-devel+abc123, behaving as v2.34.2`."""
    release = f"v{server.version}"
    if server.build_version == server.version.build_version and not server.version.reported:
        return release
    return f"{server.build_version}, behaving as {release}"
