"""create, ls, start, stop, restart, rm and ssh-config."""

from __future__ import annotations

import argparse
from typing import Any

from symposium_tui.cli.common import load_settings, open_connection
from symposium_tui.cli.output import emit_json, note, say, table
from symposium_tui.core.display import ago
from symposium_tui.core.errors import SymposiumError


class Services:
    """The engine connection and the lifecycle services for one command."""

    def __init__(self, args: argparse.Namespace) -> None:
        from symposium_tui.core.paths import app_paths
        from symposium_tui.core.services.context import LifecycleContext
        from symposium_tui.core.services.lifecycle import Lifecycle

        self.settings = load_settings()
        self.connection = open_connection(args)
        self.ctx = LifecycleContext(self.connection.engine, app_paths(), self.settings)
        self.lifecycle = Lifecycle(self.ctx)

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _taskspace_text(t: Any) -> str:
    lines = [f"taskspace {t.id}: {t.status}" + (f" ({t.reason})" if t.reason else "")]
    if t.project:
        lines.append(f"  project  {t.project} ({t.repo})")
    if t.security:
        lines.append(f"  security {t.security}")
    if t.dev_port:
        lines.append(f"  dev      ssh -F {_ssh_config_path()} {t.id}-dev    (127.0.0.1:{t.dev_port})")
    if t.agent_port:
        lines.append(f"  agent    ssh -F {_ssh_config_path()} {t.id}-agent  (127.0.0.1:{t.agent_port})")
    return "\n".join(lines)


def _ssh_config_path() -> str:
    from symposium_tui.core.paths import app_paths

    return str(app_paths().ssh_config)


def cmd_security(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.security import SecurityChange

    validate_id(args.id)

    def progress(p: Any) -> None:
        note(f"  {p.detail}")

    with Services(args) as services:
        if not args.json:
            note(f"{args.id}: making its pod again at the {args.level} level ...")
        old, taskspace = SecurityChange(services.ctx, progress).change(args.id, args.level)
    if args.json:
        emit_json({"id": args.id, "old": old, "new": args.level, "taskspace": taskspace.as_dict()})
    elif old == args.level:
        say(f"{args.id} is already {old}; nothing changed")
    else:
        say(f"{args.id}: security {old} -> {args.level}; volumes kept, new ports:")
        say(_taskspace_text(taskspace))
    return 0


def cmd_export_kube(args: argparse.Namespace) -> int:
    import pathlib

    from symposium_tui.core.fsutil import atomic_write
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.services.kube import KubeExport

    validate_id(args.id)
    with Services(args) as services:
        text = KubeExport(services.ctx).export(args.id)
    if args.output:
        atomic_write(pathlib.Path(args.output), text, mode=0o644)
        note(f"wrote {args.output}")
    else:
        say(text.rstrip("\n"))
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator

    request = CreateRequest(id=validate_id(args.id), repo=parse_repo(args.repo), image=args.image,
                            project_type=args.project_type, tier=args.tier,
                            security=args.security)

    def progress(p: Any) -> None:
        note(f"[{p.index}/{p.total}] {p.detail}")

    with Services(args) as services:
        taskspace = Creator(services.ctx, progress).create(request)
    if args.json:
        emit_json(taskspace.as_dict())
    else:
        say(_taskspace_text(taskspace))
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    from symposium_tui.core.services.storage import limits_from, measure

    with Services(args) as services:
        listing = services.lifecycle.list()
        engine = services.connection.engine
        storage = measure(engine, limits_from(services.ctx.registry.read(), list(listing.pods)))
    if args.json:
        emit_json({"taskspaces": [t.as_dict() | {"storage": storage[t.id].as_dict() if t.id in storage else None}
                                  for t in listing.taskspaces],
                   "drift": {"registry_only": list(listing.drift.registry_only),
                             "engine_only": list(listing.drift.engine_only)}})
        return 0
    if not listing.taskspaces:
        say("no taskspaces (create one: symposium-tui create ID --repo REPO)")
        return 0
    import humanize

    rows = []
    for t in listing.taskspaces:
        status = t.status + (f" ({t.reason})" if t.reason else "")
        created = humanize.naturaltime(t.created) if t.created else "-"
        activity = ago(t.last_activity)
        disk = storage[t.id].describe() if t.id in storage else "-"
        rows.append([t.id, t.project or "-", status, str(t.dev_port or "-"), str(t.agent_port or "-"),
                     t.tier or "-", t.security or "-", disk, created, activity, t.drift or ""])
    say(table(rows, ["ID", "PROJECT", "STATUS", "DEV", "AGENT", "TIER", "SECURITY", "STORAGE", "CREATED",
                     "ACTIVITY", "DRIFT"]))
    over = [u.taskspace for u in storage.values() if u.over]
    if over:
        say(f"over their storage limit: {', '.join(over)}")
    return 0


def cmd_drive(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id

    validate_id(args.id)
    with Services(args) as services:
        action = getattr(services.lifecycle, args.command)
        if not args.json:
            note(f"{args.command} {args.id} ...")
        taskspace = action(args.id)
    if args.json:
        emit_json(taskspace.as_dict())
    else:
        say(_taskspace_text(taskspace))
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id

    validate_id(args.id)
    with Services(args) as services:
        removed = services.lifecycle.remove(args.id, purge_state=args.purge_state, force=args.force)
    if args.json:
        emit_json({"id": args.id, **removed})
    else:
        say(f"removed taskspace {args.id}: " + ", ".join(removed["pod"] + removed["volumes"] + removed["networks"]))
        if removed["kept"]:
            say("kept: " + ", ".join(removed["kept"]) + " (remove with --purge-state)")
    return 0


def cmd_ssh_config(args: argparse.Namespace) -> int:
    from symposium_tui.core import sshconfig
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.paths import app_paths

    paths = app_paths()
    if args.path:
        say(str(paths.ssh_config))
        return 0
    if args.id is not None:
        validate_id(args.id)
    with Services(args) as services:
        listing = services.lifecycle.list()  # reconciles, so the file has the current ports
    entries = {t.id: {"dev_port": t.dev_port, "agent_port": t.agent_port} for t in listing.taskspaces
               if t.status != "missing" and (args.id is None or t.id == args.id)}
    if args.id is not None and not entries:
        raise SymposiumError(f"no taskspace {args.id!r}")
    hosts = [{"host": sshconfig.host_alias(i, role), "port": e[f"{role}_port"],
              "user": sshconfig.USERS[role]} for i, e in sorted(entries.items()) for role in ("dev", "agent")
             if e.get(f"{role}_port")]
    if args.json:
        emit_json({"path": str(paths.ssh_config), "include": sshconfig.include_line(paths.ssh_config),
                   "hosts": hosts})
    elif args.id is not None:
        say(sshconfig.render(entries, paths.ssh_key, paths.known_hosts).split("\n", 1)[1].strip())
    else:
        say("# add this line to the top of ~/.ssh/config, then: ssh ID-dev / ssh ID-agent")
        say(sshconfig.include_line(paths.ssh_config))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    import time

    from symposium_tui.core.errors import UsageError
    from symposium_tui.core.ids import container_name, validate_id

    validate_id(args.id)
    if args.tail < 0:
        raise UsageError(f"--tail {args.tail}: must be 0 or more")
    with Services(args) as services:
        inventory = services.lifecycle.inventory(args.id)
        name = container_name(args.id, args.container)
        if not any(c.name == name for c in inventory.containers):
            raise SymposiumError(f"no {args.container} container in taskspace {args.id!r}")
        engine = services.connection.engine
        since = time.time()
        for line in engine.logs(name, tail=args.tail, timestamps=args.timestamps):
            say(line)
        if args.follow:
            stream = engine.follow_logs(name, since=since, timestamps=args.timestamps)
            try:
                for line in stream:
                    say(line)
            except KeyboardInterrupt:
                stream.close()
    return 0
