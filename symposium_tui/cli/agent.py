"""attach, send and signals: the agent in its taskspace."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime

from symposium_tui.cli.common import Services
from symposium_tui.cli.output import emit_json, emit_json_line, note, say
from symposium_tui.core.display import printable
from symposium_tui.core.errors import SymposiumError, UsageError

SSH_FAILED = 255


def cmd_attach(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.agents import OneAgent

    validate_id(args.id)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("attach needs a terminal (it runs the agent's tmux session here)",
                         hint=f"symposium-tui send {args.id} TEXT types into it from a script")
    with Services(args) as services:
        command = OneAgent(services.ctx, args.id).attach_command(str(services.ctx.paths.main_ssh_config))
    note(f"attaching to the agent of {args.id} (detach with Ctrl-b d: the agent keeps running)")
    code = subprocess.run(command, check=False).returncode
    if code == SSH_FAILED:
        raise SymposiumError(f"ssh to the agent of {args.id} could not connect or lost the connection",
                             hint=f"symposium-tui health; ssh -F {command[2]} {command[5]}")
    return 0 if code == 0 else 1


def cmd_send(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.agents import OneAgent

    validate_id(args.id)
    if "\0" in args.text or len(args.text) > 65536:
        raise UsageError("TEXT: at most 64 KiB, without NUL")
    with Services(args) as services:
        OneAgent(services.ctx, args.id).send(args.text, enter=not args.no_enter)
    if args.json:
        emit_json({"taskspace": args.id, "sent": len(args.text), "enter": not args.no_enter})
    return 0


def _line(taskspace: str, signal) -> str:  # noqa: ANN001 - core.agent.Signal
    clock = datetime.fromtimestamp(signal.time).strftime("%Y-%m-%d %H:%M:%S")
    return f"{clock} {signal.kind:<9} {printable(signal.message)}".rstrip()


def cmd_signals(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.agents import OneAgent

    validate_id(args.id)
    with Services(args) as services:
        agent = OneAgent(services.ctx, args.id)
        view, _ = agent.look()
        recent = agent.recent()
        if args.json and not args.follow:
            emit_json({"taskspace": args.id, "agent": view.as_dict(), "signals": [s.as_dict() for s in recent]})
            return 0
        for signal in recent:
            (emit_json_line(signal.as_dict()) if args.json else say(_line(args.id, signal)))
        if not recent and not args.json:
            note(f"no signals from the agent of {args.id} yet (it sends them with symposium-signal)")
        if not args.follow:
            return 0
        try:
            while True:
                time.sleep(1.0)
                for signal in agent.look(fresh_for=10.0)[1]:
                    (emit_json_line(signal.as_dict()) if args.json else say(_line(args.id, signal)))
        except KeyboardInterrupt:
            return 0
