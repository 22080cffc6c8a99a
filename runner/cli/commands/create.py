"""`tasks create`: create a task, as `coder task create` does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.choice import choose_api
from runner.cli.coder_help import CoderCommand, Example, coder_option, stdin_option
from runner.cli.context import global_options
from runner.cli.error_context import error_context
from runner.cli.options import (
    backend_option,
    label_option,
    model_option,
    read_stdin,
    stdin_is_terminal,
)
from runner.coder.client import CoderClient, directory_client
from runner.coder.models import Organization
from runner.errors import InvalidInputError, TasksError
from runner.render.safe_text import safe_text
from runner.render.times import go_stamp
from runner.resolve import (
    NoDefaultPreset,
    NoTaskTemplate,
    OrganizationNotChosen,
    Resolver,
    TemplateNotChosen,
    UnknownOrganization,
    UnknownPreset,
)

if TYPE_CHECKING:
    from runner.cli.chat_create import ChatPlace
    from runner.coder.chats import ChatsClient

#: `--preset` default: literally "none", meaning "no preset" (an empty value means the default).
PRESET_NONE = "none"

EXAMPLES = (
    Example(
        "Create a task with direct input", 'tasks create "Add authentication to the user service"'
    ),
    Example(
        "Create a task with stdin input",
        'echo "Add authentication to the user service" | tasks create',
    ),
    Example(
        "Create a task with a specific name",
        'tasks create --name task1 "Add authentication to the user service"',
    ),
    Example(
        "Create a task from a specific template / preset",
        'tasks create --template backend-dev --preset "My Preset" '
        '"Add authentication to the user service"',
    ),
    Example(
        "Create a task for another user (requires appropriate permissions)",
        'tasks create --owner user@example.com "Add authentication to the user service"',
    ),
)


def read_input(argument: str | None, use_stdin: bool) -> str:
    """The task's input from `--stdin`, the argument, or piped stdin, as Coder reads it."""
    if use_stdin:
        text = read_stdin()
    elif argument is not None:
        text = argument
    elif not stdin_is_terminal():
        text = read_stdin()
        if not text:
            raise InvalidInputError("expected an input for task")
    else:
        raise InvalidInputError("expected an input for task")
    if text == "":
        raise InvalidInputError("a task cannot be started with an empty input")
    return text


def select_organization(resolver: Resolver, wanted: str | None) -> Organization:
    """The organization named by `--org` (name or UUID), else the caller's only one."""
    try:
        return resolver.organization(wanted)
    except UnknownOrganization as error:
        raise TasksError(
            f'organization "{wanted}" not found, are you sure you are a member of this '
            f"organization? Valid options for '--org=' are [{', '.join(error.names)}]."
        ) from None
    except OrganizationNotChosen as error:
        raise TasksError(
            "Must select an organization with --org=<org_name>. Choose from: "
            f"{', '.join(error.names)}"
        ) from None


def resolve_template_version(
    resolver: Resolver, organization: Organization, template: str, version: str
) -> str:
    """The template version id to create from, following Coder's rules for omitted flags."""
    if not template:
        try:
            only = resolver.only_task_template(organization)
        except TemplateNotChosen as error:
            names = ", ".join(error.names)
            raise TasksError(f"template name not provided, available templates: {names}") from None
        except NoTaskTemplate:
            raise TasksError("no task templates configured") from None
        if not version:
            return only.active_version_id
        template = only.name
    if version:
        with error_context("get template version"):
            return resolver.pinned_version(organization, template, version).id
    with error_context("get template"):
        return resolver.template(organization, template).active_version_id


def resolve_preset(resolver: Resolver, version_id: str, preset: str) -> str | None:
    """The preset id for `--preset`: none for `none`, the default one for an empty value."""
    if preset == PRESET_NONE:
        return None
    with error_context("get template presets"):
        resolver.presets(version_id)
    with error_context("resolve preset"):
        try:
            return resolver.preset(version_id, preset).id
        except NoDefaultPreset:
            raise TasksError("no preset found") from None
        except UnknownPreset:
            raise TasksError(f'preset "{preset}" not found') from None


def _refuse_on_tasks(model: str | None, labels: dict[str, str], workspace: str) -> None:
    """Flags only Chats have, refused on Tasks in one line."""
    if model is not None or labels:
        raise InvalidInputError("--model and --label need Chats (Coder Agents); Tasks have neither")
    if workspace:
        raise InvalidInputError(
            "--workspace needs Chats (Coder Agents): a task always creates its own workspace"
        )


def _chat_place(
    api: ChatsClient, org: str | None, template: str, version: str, preset: str, workspace: str
) -> ChatPlace:
    """Where a chat's agent works, from the flags: the template version (and preset) a new
    workspace pins, found by Coder's rules as for a task; an existing workspace; or neither."""
    from runner.cli.chat_create import ChatPlace

    if workspace and (template or version or preset != PRESET_NONE or org):
        raise InvalidInputError(
            "--workspace binds an existing workspace: it takes no --template, "
            "--template-version, --preset or --org"
        )
    if not template and (version or preset != PRESET_NONE):
        raise InvalidInputError("--template-version and --preset pin a template: give --template")
    if workspace:
        return ChatPlace(workspace=workspace)
    if not (template or org):
        return ChatPlace()
    resolver = Resolver(directory_client(api))
    with error_context("get current organization"):
        organization = select_organization(resolver, org)
    if not template:
        return ChatPlace(organization_id=organization.id)
    version_id = resolve_template_version(resolver, organization, template, version)
    preset_id = resolve_preset(resolver, version_id, preset)
    return ChatPlace(organization.id, version_id, preset_id)


@click.command(
    "create",
    cls=CoderCommand,
    usage_args="[input]",
    short="Create a task",
    examples=EXAMPLES,
)
@click.argument("task_input", metavar="[input]", required=False)
@coder_option(
    "-O",
    "--org",
    type_help="string",
    env_help="CODER_ORGANIZATION",
    help_name="Organization",
    description="Select which organization (uuid or name) to use.",
)
@coder_option(
    "--name",
    default="",
    type_help="string",
    description="Specify the name of the task. If you do not specify one, a name will be "
    "generated for you.",
)
@coder_option(
    "--owner",
    default="me",
    type_help="string",
    default_help="me",
    description="Specify the owner of the task. Defaults to the current user.",
)
@coder_option(
    "--preset",
    default=PRESET_NONE,
    type_help="string",
    env_help="CODER_TASK_PRESET_NAME",
    default_help=PRESET_NONE,
)
@coder_option(
    "-q",
    "--quiet",
    is_flag=True,
    type_help="bool",
    description="Only display the created task's ID.",
)
@stdin_option("Reads from stdin for the task input.")
@coder_option("--template", default="", type_help="string", env_help="CODER_TASK_TEMPLATE_NAME")
@coder_option(
    "--template-version",
    default="",
    type_help="string",
    env_help="CODER_TASK_TEMPLATE_VERSION",
    help_name="template-version",
)
@click.option(
    "--workspace",
    default="",
    metavar="WORKSPACE",
    help="Chats: bind the chat to this existing workspace of yours (name, owner/name or ID).",
)
@backend_option
@model_option
@label_option("Chats: a label for the chat (KEY=VALUE). Repeatable.")
@click.pass_context
def command(
    ctx: click.Context,
    task_input: str | None,
    org: str | None,
    name: str,
    owner: str,
    preset: str,
    quiet: bool,
    use_stdin: bool,
    template: str,
    template_version: str,
    backend: str,
    model: str | None,
    workspace: str,
    labels: dict[str, str],
) -> None:
    """Create a task."""
    prompt = read_input(task_input, use_stdin)
    api = choose_api(global_options(ctx), backend)
    if not isinstance(api, CoderClient):
        if owner != "me":
            raise InvalidInputError("a chat belongs to the token's user: --owner needs Tasks")
        from runner.cli.chat_create import chat_create

        place = _chat_place(api, org, template, template_version, preset, workspace)
        chat_create(api, prompt, place=place, name=name, model=model, labels=labels, quiet=quiet)
        return
    _refuse_on_tasks(model, labels, workspace)
    client = api
    resolver = Resolver(client)
    with error_context("get current organization"):
        organization = select_organization(resolver, org)
    version_id = resolve_template_version(resolver, organization, template, template_version)
    preset_id = resolve_preset(resolver, version_id, preset)
    with error_context("create task"):
        task = client.create_task(
            owner=owner,
            template_version_id=version_id,
            prompt=prompt,
            name=name or None,
            preset_id=preset_id,
        )
    if quiet:
        click.echo(safe_text(task.id))
    elif task.created_at is not None:
        click.echo(
            safe_text(f"The task {task.name} has been created at {go_stamp(task.created_at)}!")
        )
    else:
        click.echo(safe_text(f"The task {task.name} has been created!"))
