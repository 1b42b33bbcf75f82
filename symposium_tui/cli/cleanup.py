"""cleanup and gc-volumes: a plan first, always; --apply carries it out."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from symposium_tui.cli.output import emit_json, note, say
from symposium_tui.cli.common import Services
from symposium_tui.core import display
from symposium_tui.core.errors import UsageError


def _size(value: int) -> str:
    return display.size(value)


def _threshold(args: argparse.Namespace) -> timedelta:
    import math

    from symposium_tui.core.units import MAX_DURATION_DAYS, parse_duration

    if args.inactive_days is not None and args.inactive_for is not None:
        raise UsageError("give --inactive-days or --inactive-for, not both")
    if args.inactive_for is not None:
        return timedelta(seconds=parse_duration(args.inactive_for, "--inactive-for"))
    days = 7.0 if args.inactive_days is None else args.inactive_days
    if not math.isfinite(days) or not 0 <= days <= MAX_DURATION_DAYS:
        raise UsageError(f"--inactive-days {days:g}: expected a number of days from 0 to {MAX_DURATION_DAYS}")
    return timedelta(days=days)


def cmd_cleanup(args: argparse.Namespace) -> int:
    from symposium_tui.core.services.cleanup import Cleanup

    threshold = _threshold(args)
    if args.all_connections:
        return _cleanup_all(args, threshold)
    with Services(args) as services:
        cleanup = Cleanup(services.ctx)
        # Applying at once: the removal checks each taskspace's unsaved work itself (or --force
        # skips it), so the plan need not check it a first time.
        plan = cleanup.plan(threshold, include_running=args.include_running, check_work=not args.apply)
        if not args.apply:
            if args.json:
                emit_json(plan.as_dict())
                return 0
            _say_heading(args, threshold)
            _say_plan(plan)
            return 0
        outcomes = cleanup.apply(plan, force=args.force,
                                 progress=None if args.json else (lambda item, what: note(f"{item}: {what}")))
    return _report(args, outcomes, "cleanup")


def _say_heading(args: argparse.Namespace, threshold: timedelta) -> None:
    from symposium_tui.core.units import format_duration

    say(f"Cleanup plan (dry run; nothing has been changed): taskspaces inactive for more than "
        f"{format_duration(threshold.total_seconds())}"
        + ("" if args.include_running else ", running ones left out (--include-running)"))


def _say_plan(plan: Any, indent: str = "  ") -> None:
    if not plan.items:
        say(f"{indent}nothing to clean up")
        return
    for item in plan.items:
        say(f"{indent}{item.taskspace}  {item.status}  {item.why}")
        say(f"{indent}  remove: " + ", ".join(f"{t.kind} {t.name}" + (f" ({_size(t.bytes)})" if t.bytes else "")
                                              for t in item.remove))
        if item.keep:
            say(f"{indent}  keep:   " + ", ".join(f"{t.name} ({t.role})" for t in item.keep))
        say(f"{indent}  frees:  {_size(item.bytes_reclaimed)}")
        say(f"{indent}  shell:  " + "; ".join(item.commands))
        if item.warning:
            say(f"{indent}  WARNING: {item.warning}")
    say(f"{indent}{len(plan.items)} taskspace(s), {_size(plan.bytes_reclaimed)} would be freed. "
        "Run again with --apply to carry it out" + (" (with --connection HOST)." if indent != "  " else "."))


def _cleanup_all(args: argparse.Namespace, threshold: timedelta) -> int:
    """Every host's plan, side by side; applying stays one host at a time (--connection)."""
    from symposium_tui.cli.common import on_every_host, report_unreachable
    from symposium_tui.core.services.cleanup import Cleanup

    if args.apply:
        raise UsageError("--all-connections previews only; apply on one host at a time: "
                         "cleanup --apply --connection NAME")
    results = on_every_host(args, lambda services: Cleanup(services.ctx).plan(
        threshold, include_running=args.include_running, check_work=True))
    if args.json:
        emit_json({"dry_run": True, "hosts": [r.as_dict() | ({"plan": r.value.as_dict()} if r.error is None else {})
                                              for r in results]})
    else:
        _say_heading(args, threshold)
        for result in results:
            if result.error is None:
                say(f"host {result.host}:")
                _say_plan(result.value, indent="    ")
        report_unreachable(results)
    return 0 if all(r.error is None for r in results) else 1


def cmd_gc_volumes(args: argparse.Namespace) -> int:
    from symposium_tui.core.services.cleanup import Cleanup

    with Services(args) as services:
        cleanup = Cleanup(services.ctx)
        # Applying at once: apply checks each workspace's unsaved work itself (or --force skips it).
        plan = cleanup.plan_gc(check_work=not args.apply)
        if not args.apply:
            if args.json:
                emit_json(plan.as_dict())
                return 0
            say("Volume GC plan (dry run; nothing has been changed): labelled volumes and networks whose "
                "taskspace is gone")
            for item in plan.items:
                size = "" if item.volume.kind == "network" else f" ({_size(item.volume.bytes)})"
                say(f"  remove {item.volume.kind} {item.volume.name}{size}: {item.why}")
                if item.warning:
                    say(f"    WARNING: {item.warning}")
            for item in plan.kept:
                say(f"  keep   {item.volume.kind} {item.volume.name}: {item.why}")
            if not plan.items:
                say("  nothing to remove")
            else:
                say(f"{len(plan.items)} item(s), {_size(plan.bytes_reclaimed)} would be freed. "
                    "Run again with --apply to carry it out.")
            return 0
        outcomes = cleanup.apply_gc(plan, force=args.force, progress=None if args.json else
                                    (lambda item, what: note(f"{item}: {what}")))
    return _report(args, outcomes, "gc")


def _report(args: argparse.Namespace, outcomes: list, what: str) -> int:
    freed = sum(o.bytes for o in outcomes if o.removed)
    failed = [o for o in outcomes if o.result.startswith("failed")]
    if args.json:
        emit_json({"dry_run": False, "results": [o.as_dict() for o in outcomes], "bytes_reclaimed": freed})
    else:
        for outcome in outcomes:
            say(f"  {outcome.item}: {outcome.result}")
        removed = sum(1 for o in outcomes if o.removed)
        say(f"{what}: {removed} removed, {len(outcomes) - removed} not, {_size(freed)} freed")
    return 1 if failed else 0
