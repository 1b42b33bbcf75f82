"""create, ls, start, stop, restart, rm and ssh-config."""

from __future__ import annotations

import argparse
from typing import Any

from symposium_tui.cli.common import Services, check_tier
from symposium_tui.cli.output import emit_json, note, say, say_raw, table
from symposium_tui.core.columns import RowFacts, columns_of, cut_column, drop_order, headers, row_texts
from symposium_tui.core.display import printable
from symposium_tui.core.errors import SymposiumError


def _taskspace_text(t: Any, ctx: Any) -> str:
    # one line per field, whatever a label holds (a newline in it is shown, not obeyed)
    lines = [f"taskspace {t.id}: {printable(t.status)}" + (f" ({printable(t.reason)})" if t.reason else "")]
    if ctx.host != "local":
        lines.append(f"  host     {ctx.host}")
    if t.project:
        lines.append(f"  project  {printable(t.project)} ({printable(t.repo)})")
    if t.security:
        lines.append(f"  security {printable(t.security)}")
    if t.project_type:
        lines.append(f"  tools    {printable(t.project_type)}" + ("" if t.project_type == "none" else
                                                               "    (its toolchain in both containers; builds cached)"))
    if t.branch:
        lines.append(f"  branch   {printable(t.branch)} from {t.start[:12]}    (symposium-tui diff {t.id}; "
                     f"fetch {t.id} brings it home)")
    config = ctx.paths.main_ssh_config
    via = f" on {ctx.host}, through its SSH" if ctx.jump is not None else ""
    for role, port in (("dev", t.dev_port), ("agent", t.agent_port)):
        if port:
            lines.append(f"  {role:<8} ssh -F {config} {ctx.ssh_alias(t.id, role)}    (127.0.0.1:{port}{via})")
    return "\n".join(lines)


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
        say(_taskspace_text(taskspace, services.ctx))
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

    from symposium_tui.core.repos import validate_branch, validate_ref

    if args.ref is not None:
        validate_ref(args.ref)  # before any engine: a usage error
    if args.branch is not None:
        validate_branch(args.branch)
    from symposium_tui.core.agent import parse_command_line, read_task

    command = parse_command_line(args.agent_command) if args.agent_command is not None else None
    if args.project_type is not None:
        from symposium_tui.core.toolchains import choice_of

        choice_of(args.project_type)  # before any engine: a usage error
    request = CreateRequest(id=validate_id(args.id), repo=parse_repo(args.repo), image=args.image,
                            project_type=args.project_type, tier=args.tier,
                            security=args.security, ref=args.ref, branch=args.branch,
                            agent_command=command, task=read_task(args.task, args.task_file))
    check_tier(args.tier)

    def progress(p: Any) -> None:
        note(f"[{p.index}/{p.total}] {p.detail}")

    with Services(args) as services:
        creator = Creator(services.ctx, progress)
        taskspace = creator.create(request)
    for line in creator.notes:
        note(f"note: {line}")
    if args.json:
        emit_json(taskspace.as_dict())
    else:
        say(_taskspace_text(taskspace, services.ctx))
    return 0


def _listing(services: Services) -> tuple[Any, dict[str, Any]]:
    from symposium_tui.core.services.storage import limits_from, measure

    from symposium_tui.core.services.agents import with_agents

    from symposium_tui.core.services.idle_stop import with_stop_times

    listing = with_stop_times(services.ctx, with_agents(services.ctx, services.lifecycle.list()))
    storage = measure(services.ctx.backend, limits_from(services.ctx.registry.read(), list(listing.pods)),
                      containers=[c for t in listing.taskspaces for c in t.containers.values()])
    return listing, storage


def _ls_json(listing: Any, storage: dict[str, Any], host: str | None = None) -> list[dict[str, Any]]:
    extra = {} if host is None else {"host": host}
    return [extra | t.as_dict() | {"storage": storage[t.id].as_dict() if t.id in storage else None}
            for t in listing.taskspaces]


def _ls_rows(listing: Any, storage: dict[str, Any], host: str | None = None) -> list[list[str]]:
    """The rows of the ls table, with the HOST column when a host is named (`--all-connections`)."""
    columns = columns_of("ls", several_hosts=host is not None)
    return [row_texts(RowFacts.of_taskspace(t, storage.get(t.id), host or ""), columns)
            for t in listing.taskspaces]


def _ls_table(rows: list[list[str]], several_hosts: bool = False) -> str:
    return table(rows, headers("ls", several_hosts), drop_order("ls"), cut_column("ls"))


LS_HEADERS = headers("ls")  # as core.columns has them: one host's table, and what goes first when narrow
LS_DROP = drop_order("ls")


def cmd_ls(args: argparse.Namespace) -> int:
    if args.all_connections:
        return _ls_all(args)
    with Services(args) as services:
        listing, storage = _listing(services)
    if args.json:
        emit_json({"taskspaces": _ls_json(listing, storage),
                   "drift": {"registry_only": list(listing.drift.registry_only),
                             "engine_only": list(listing.drift.engine_only)}})
        return 0
    if not listing.taskspaces:
        say("no taskspaces (create one: symposium-tui create ID --repo REPO)")
        return 0
    say(_ls_table(_ls_rows(listing, storage)))
    over = [u.taskspace for u in storage.values() if u.over]
    if over:
        say(f"over their storage limit: {', '.join(over)}")
    _say_who_stops(services, listing)
    return 0


def _say_who_stops(services: Services, listing: Any) -> None:
    """STOPS is a promise only while a monitor or a dashboard runs: said when none does."""
    from symposium_tui.core.services.idle_stop import anyone_stops

    if any(t.stops_at is not None for t in listing.taskspaces) and not anyone_stops(services.ctx):
        say("auto_stop: no monitor or dashboard runs for this engine now, and only they stop idle "
            "taskspaces (symposium-tui monitor)")


def _ls_all(args: argparse.Namespace) -> int:
    from symposium_tui.cli.common import on_every_host, report_unreachable

    results = on_every_host(args, _listing)
    answered = [r for r in results if r.error is None]
    if args.json:
        emit_json({"taskspaces": [item for r in answered for item in _ls_json(*r.value, host=r.host)],
                   "hosts": [r.as_dict() | ({"drift": {"registry_only": list(r.value[0].drift.registry_only),
                                                       "engine_only": list(r.value[0].drift.engine_only)}}
                                            if r.error is None else {}) for r in results]})
    else:
        rows = [row for r in answered for row in _ls_rows(*r.value, host=r.host)]
        say(_ls_table(rows, several_hosts=True) if rows
            else "no taskspaces on any reachable host")
        over = [f"{t}@{r.host}" for r in answered for t, u in r.value[1].items() if u.over]
        if over:
            say(f"over their storage limit: {', '.join(over)}")
    return 0 if report_unreachable(results) else 1


def _each(args: argparse.Namespace, action) -> int:  # noqa: ANN001
    """ACTION(services, id) -> (its JSON, its text) for every id given (all checked first, a
    duplicate once), a few at a time, each reported in the order given; one that fails leaves the
    others done. Exit 0 when all worked, else the exit code of the first that failed. One id: its
    result alone, as before."""
    from concurrent.futures import ThreadPoolExecutor

    from symposium_tui.core.ids import validate_id

    ids = list(dict.fromkeys(args.ids))
    for taskspace in ids:
        validate_id(taskspace)
    if not args.json:
        note(f"{args.command} {' '.join(ids)} ...")
    with Services(args) as services:
        if len(ids) == 1:
            data, text = action(services, ids[0])
            emit_json(data) if args.json else say(text)
            return 0

        def one(taskspace: str) -> tuple[str, Any, SymposiumError | None]:
            try:
                return taskspace, action(services, taskspace), None
            except SymposiumError as exc:
                return taskspace, None, exc

        with ThreadPoolExecutor(min(4, len(ids))) as pool:
            done = list(pool.map(one, ids))
    failed = [exc for _, _, exc in done if exc is not None]
    if args.json:
        emit_json({"results": [{"id": t, "ok": exc is None, **(result[0] if exc is None else {
            "error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code})} for t, result, exc in done]})
        return failed[0].exit_code if failed else 0
    for taskspace, result, exc in done:
        if exc is None:
            say(result[1])
        else:
            note(f"{taskspace}: failed: {exc.message}" + (f" (fix: {exc.hint})" if exc.hint else ""))
    say(f"{args.command}: {len(done) - len(failed)} of {len(done)} done" + (f", {len(failed)} failed" if failed else ""))
    return failed[0].exit_code if failed else 0


def cmd_drive(args: argparse.Namespace) -> int:
    def drive(services: Services, taskspace: str) -> tuple[dict, str]:
        done = getattr(services.lifecycle, args.command)(taskspace)
        return done.as_dict(), _taskspace_text(done, services.ctx)

    return _each(args, drive)


def cmd_rm(args: argparse.Namespace) -> int:
    def remove(services: Services, taskspace: str) -> tuple[dict, str]:
        removed = services.lifecycle.remove(taskspace, purge_state=args.purge_state, force=args.force)
        text = f"removed taskspace {taskspace}: " + ", ".join(removed["pod"] + removed["volumes"] + removed["networks"])
        if removed["kept"]:
            text += "\nkept: " + ", ".join(removed["kept"]) + " (remove with --purge-state)"
        return {"id": taskspace, **removed}, text

    return _each(args, remove)


def _running_member(services: Services, taskspace: str, role: str) -> str:
    """The name of the taskspace's ROLE container, which must be running."""
    from symposium_tui.core.ids import container_name

    member = container_name(taskspace, role)
    found = services.ctx.backend.find("container", member)
    if found is None:
        raise SymposiumError(f"no taskspace {taskspace} (no {role} container {member})",
                             hint="symposium-tui ls lists them")
    if not found.running:
        raise SymposiumError(f"the {role} container of {taskspace} is not running",
                             hint=f"symposium-tui start {taskspace}")
    return member


def cmd_ports(args: argparse.Namespace) -> int:
    from symposium_tui.core.forwards import listening as read_listening
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.ports import OURS

    validate_id(args.id)
    with Services(args) as services:
        member = _running_member(services, args.id, "dev")
        listening = read_listening(services.ctx.backend, member)
    if args.json:
        emit_json({"id": args.id, "listening": [p.as_dict() for p in listening]})
        return 0
    rows = [[str(p.port), p.address, OURS.get(p.port) or ("the taskspace only" if p.loopback_only else
                                                         "all its addresses")] for p in listening]
    say(table(rows, ["PORT", "ADDRESS", "WHAT"]) if rows else f"nothing listens on TCP in {args.id}")
    others = [p.port for p in listening if p.port not in OURS]
    if others:
        say(f"reach one from here: symposium-tui forward {args.id} {others[0]}")
    return 0


def cmd_forward(args: argparse.Namespace) -> int:
    import subprocess

    from symposium_tui.core.forwards import check_ports, forward_argv, local_port_taken
    from symposium_tui.core.ids import validate_id

    validate_id(args.id)
    local = args.local if args.local is not None else args.port
    check_ports(args.port, local)
    taken = local_port_taken(local)
    if taken:
        raise SymposiumError(f"127.0.0.1:{local} is taken on this machine ({taken})",
                             hint=f"choose another: symposium-tui forward {args.id} {args.port} --local PORT")
    role = "agent" if args.agent else "dev"
    with Services(args) as services:
        _running_member(services, args.id, role)
        alias = services.ctx.ssh_alias(args.id, role)
        config = str(services.ctx.paths.main_ssh_config)
    argv = forward_argv(config, alias, local, args.port)
    note(f"forwarding 127.0.0.1:{local} here to port {args.port} in {args.id}'s {role} container "
         "(through its SSH; Ctrl-C stops)")
    proc = subprocess.Popen(argv)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        note("stopped forwarding")
        return 0
    raise SymposiumError(f"the forward through ssh {alias} ended (exit code {code})",
                         hint=f"symposium-tui health; ssh -F {config} {alias}")


def cmd_exec(args: argparse.Namespace) -> int:
    import sys

    from symposium_tui.core.errors import UsageError
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.taskspace import CONTAINER_UID

    validate_id(args.id)
    command = list(args.argv)
    if any("\0" in word for word in command):
        raise UsageError("COMMAND: a NUL character cannot be passed to a program")
    with Services(args) as services:
        member = _running_member(services, args.id, "agent" if args.agent else "dev")
        tty = sys.stdin.isatty() and sys.stdout.isatty()
        return services.ctx.backend.interactive(member, tuple(command or ("/bin/bash", "-l")),
                                                f"{CONTAINER_UID}:{CONTAINER_UID}", "/workspace", tty)


def cmd_ssh_config(args: argparse.Namespace) -> int:
    from symposium_tui.core import sshconfig
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.paths import app_paths

    main = app_paths().main_ssh_config
    if args.path:
        say(str(main))
        return 0
    if args.id is not None:
        validate_id(args.id)
    with Services(args) as services:
        listing = services.lifecycle.list()  # reconciles, so the file has the current ports
    ctx = services.ctx
    entries = {t.id: {"dev_port": t.dev_port, "agent_port": t.agent_port} for t in listing.taskspaces
               if t.status != "missing" and (args.id is None or t.id == args.id)}
    if args.id is not None and not entries:
        raise SymposiumError(f"no taskspace {args.id!r} on {ctx.host}")
    hosts = [{"host": ctx.ssh_alias(i, role), "port": e[f"{role}_port"], "user": sshconfig.USERS[role],
              "engine_host": ctx.host, "proxy_jump": ctx.jump.alias if ctx.jump else None}
             for i, e in sorted(entries.items()) for role in ("dev", "agent") if e.get(f"{role}_port")]
    if args.json:
        emit_json({"path": str(main), "include": sshconfig.include_line(main), "hosts": hosts})
    elif args.id is not None:
        text = sshconfig.render(entries, ctx.paths.ssh_key, ctx.paths.known_hosts, host=ctx.host, jump=ctx.jump)
        say(text.split("\n", 1)[1].strip())
    else:
        say("# add this line to the top of ~/.ssh/config, then: ssh ID-dev / ssh ID-agent "
            "(ID-dev.HOST for another engine host)")
        say(sshconfig.include_line(main))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    import time

    from symposium_tui.core.errors import UsageError
    from symposium_tui.core.ids import container_name, validate_id

    validate_id(args.id)
    if args.tail < 0:
        raise UsageError(f"--tail {args.tail}: must be 0 or more")
    with Services(args) as services:
        inventory = services.lifecycle.require_pod(args.id)  # "no taskspace 'x'" when there is none
        name = container_name(args.id, args.container)
        if not any(c.name == name for c in inventory.containers):
            raise SymposiumError(f"no {args.container} container in taskspace {args.id!r}")
        engine = services.ctx.backend
        since = time.time()
        for line in engine.logs(name, tail=args.tail, timestamps=args.timestamps):
            say_raw(line)
        if args.follow:
            stream = engine.follow_logs(name, since=since, timestamps=args.timestamps)
            try:
                for line in stream:
                    say_raw(line)
            except KeyboardInterrupt:
                stream.close()
    return 0
