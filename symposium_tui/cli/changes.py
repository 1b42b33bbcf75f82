"""diff and fetch: a taskspace's work since its start commit, reviewed and brought home."""

from __future__ import annotations

import argparse
import sys

from symposium_tui.cli.common import Services
from symposium_tui.cli.output import emit_json, note, say
from symposium_tui.core.display import printable


def _patch_text(text: str) -> str:
    """A patch as git prints it, with what a terminal would act on (ESC, CR, ...) escaped; tabs kept."""
    return "\n".join("\t".join(printable(part) for part in line.split("\t")) for line in text.split("\n"))


def _heading(changes) -> list[str]:  # noqa: ANN001 - services.changes.Changes
    lines = [f"taskspace {changes.taskspace}: branch {printable(changes.branch)} from {changes.start[:12]}"]
    if not changes.tip:
        lines.append(f"  the branch {printable(changes.branch)} is gone; HEAD is at {changes.head[:12] or 'nothing'}")
    elif changes.checked_out != changes.branch:
        lines.append(f"  HEAD is on {printable(changes.checked_out) or 'no branch'} at {changes.head[:12]}")
    count = changes.commit_count
    lines.append(f"{count} commit(s) since the start" + (":" if count else ""))
    lines += [f"  {c.sha[:12]} {printable(c.subject)}" for c in changes.commits]
    if count > len(changes.commits):
        lines.append(f"  … and {count - len(changes.commits)} more")
    if changes.uncommitted:
        lines.append(f"{len(changes.uncommitted)} uncommitted change(s):")
        lines += [f"  {printable(entry)}" for entry in changes.uncommitted[:50]]
        if len(changes.uncommitted) > 50:
            lines.append(f"  … and {len(changes.uncommitted) - 50} more")
    else:
        lines.append("no uncommitted changes")
    return lines


def cmd_diff(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.changes import TaskspaceChanges

    validate_id(args.id)
    what = "stat" if args.stat else ("summary" if args.json else "patch")
    with Services(args) as services:
        changes = TaskspaceChanges(services.ctx).read(args.id, what)
    if args.json:
        emit_json(changes.as_dict())
        return 0
    say("\n".join(_heading(changes)))
    if args.stat:
        if changes.stat.strip():
            print(_patch_text(changes.stat.rstrip("\n")), flush=True)
        return 0
    if changes.patch:
        print("", flush=True)
        sys.stdout.write(_patch_text(changes.patch))
        if not changes.patch.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
    if changes.patch_cut:
        note(f"note: the patch is longer than {len(changes.patch) // 2**20} MiB and was cut; "
             f"symposium-tui diff {args.id} --stat lists every file")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.changes import TaskspaceChanges, check_into

    validate_id(args.id)
    if args.into is not None:
        check_into(args.into)  # before any engine: a usage error
    with Services(args) as services:
        outcome = TaskspaceChanges(services.ctx).fetch(args.id, into=args.into, force=args.force)
    if args.json:
        emit_json(outcome.as_dict())
        return 0
    for line in outcome.describe():
        say(line)
    branch = printable(outcome.branch)
    say(f"review: git -C {printable(outcome.into)} log --oneline {branch}; merge: git merge {branch}")
    return 0
