"""Terraform-style text for a plan: one line per task with its symbol, then a summary line."""

from __future__ import annotations

from runner.plan import Action, ActionKind, Plan
from runner.render.safe_text import safe_text

#: Unlisted tasks named one by one before the rest are only counted.
UNLISTED_SHOWN = 5


def render_plan(plan: Plan, *, show_unchanged: bool = False, destroying: bool = False) -> str:
    """The plan as text (no trailing newline).

    Symbols: `+` create, `~` send follow-ups (or only clean up), `-` delete, `-/+` replace, `!`
    drift or conflict; `then stop` or `then remove` ends a line whose task is cleaned up after.
    Tasks with nothing to do are counted but listed only with `show_unchanged`. `destroying`
    words the plan of `tasks destroy`, whose deletions are of tasks the manifest still lists.
    """
    shown = [a for a in plan.actions if show_unchanged or not _unchanged(a)]
    lines: list[str] = []
    if shown:
        width = max(len(a.name) for a in shown)
        where_width = max(len(_where(a)) for a in shown)
        for action in shown:
            lines.append(_line(action, width, where_width, destroying))
            lines.extend(f"        {reason}" for reason in _detail_lines(action))
        lines.append("")
    if destroying and not plan.has_changes:
        lines.append(f"Nothing to destroy: no task of batch {plan.batch!r} was found.")
    elif not plan.has_changes and (plan.drifted or plan.conflicts or plan.unlisted):
        lines.append(f"No changes will be made, but the deployment differs from {plan.batch!r}.")
    elif not plan.has_changes:
        lines.append(f"No changes. The deployment matches batch {plan.batch!r}.")
    lines.append(plan.summary())
    if plan.unlisted:
        names = ", ".join(plan.unlisted[:UNLISTED_SHOWN])
        more = len(plan.unlisted) - UNLISTED_SHOWN
        if more > 0:
            names += f" and {more} more"
        lines.append(
            f"{len(plan.unlisted)} task(s) of the batch are no longer in the manifest and are "
            f"kept ({names}); --prune deletes them."
        )
    unchanged = sum(1 for a in plan.actions if _unchanged(a))
    if unchanged and not show_unchanged:
        lines.append(f"{unchanged} task(s) unchanged.")
    if plan.drifted:
        lines.append(
            "Drifted tasks are left as they are; use --replace (or `on_drift: replace`) "
            "to delete and re-create them."
        )
    # Names and reasons can quote the server: shown, never obeyed.
    return safe_text("\n".join(lines))


def _unchanged(action: Action) -> bool:
    """Nothing to do, not even a clean-up."""
    return action.kind is ActionKind.NOOP and not action.after


def _line(action: Action, width: int, where_width: int, destroying: bool) -> str:
    # A task whose only change is its clean-up is changed in place.
    symbol = "~" if action.after and action.kind is ActionKind.NOOP else action.kind.symbol
    where = _where(action).ljust(where_width)
    described = "delete (owned by the batch)" if destroying else _describe(action)
    if action.after and not destroying:
        described += f", then {action.after}"
    return f"{symbol.rjust(3)} {action.name.ljust(width)}  {where}  {described}"


def _where(action: Action) -> str:
    return f"{action.owner}/{action.coder_name}"


def _describe(action: Action) -> str:
    kind = action.kind
    sends = _follow_up_text(len(action.follow_ups))
    if kind is ActionKind.DELETE and action.reasons:
        return f"delete: {'; '.join(action.reasons)}"
    if kind is ActionKind.DELETE:
        return "delete (owned by the batch, no longer in the manifest)"
    if kind is ActionKind.REPLACE:
        return f"replace: {'; '.join(action.reasons)}" + (f", then {sends}" if sends else "")
    if kind is ActionKind.CREATE:
        return "create" + (f", then {sends}" if sends else "")
    if kind is ActionKind.SEND:
        if not action.logs_verified:
            return f"{sends} unless the logs show them delivered"
        total = action.delivered + len(action.follow_ups)
        return f"{sends} ({action.delivered} of {total} already delivered)"
    if kind is ActionKind.DRIFT:
        return f"drift: {'; '.join(action.reasons)}"
    if kind is ActionKind.CONFLICT:
        return f"blocked: {'; '.join(action.reasons)}"
    return "no changes"


def _detail_lines(action: Action) -> list[str]:
    if action.kind is ActionKind.SEND and not action.logs_verified:
        return list(action.reasons)
    if action.kind is ActionKind.CREATE:  # a removed task created again: why
        return list(action.reasons)
    return []


def _follow_up_text(count: int) -> str:
    if count == 0:
        return ""
    return f"send {count} follow-up" + ("" if count == 1 else "s")
