"""adjust: live resource changes."""

from __future__ import annotations

import argparse

from symposium_tui.cli.output import emit_json, note, say
from symposium_tui.cli.common import Services


def cmd_adjust(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.resources import Resources, describe_change

    validate_id(args.id)
    _check_values(args)  # bad sizes, CPUs or tiers are refused before any engine is reached
    with Services(args) as services:
        services.ctx.policy  # noqa: B018 - an invalid policy file fails here, before any change
        result = Resources(services.ctx).adjust(args.id, tier=args.tier, memory=args.memory, cpu=args.cpu)
    if args.json:
        emit_json(result.as_dict())
        return 0
    say(f"{args.id}: {describe_change(result.old, result.new)}")
    if result.note:
        note(result.note)
    if result.applied:
        felt = ", ".join(f"{role} reads memory {f.memory}, cpu {f.cpu_millis}m"
                         for role, f in sorted((result.felt or {}).items()))
        say(f"applied live through the {result.method}, no restart; confirmed from the cgroups: {felt}")
    else:
        note(f"{args.id} is not running: the new limits are recorded and applied when it starts")
    return 0


def _check_values(args: argparse.Namespace) -> None:
    from symposium_tui.cli.common import check_tier
    from symposium_tui.core.errors import UsageError
    from symposium_tui.core.units import parse_cpu, parse_size

    if args.tier is None and args.memory is None and args.cpu is None:
        raise UsageError("adjust needs --tier, --memory or --cpu")
    if args.memory is not None:
        parse_size(args.memory, "--memory")
    if args.cpu is not None:
        parse_cpu(args.cpu, "--cpu")
    if args.tier is not None:
        check_tier(args.tier)
