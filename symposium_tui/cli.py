"""The scriptable face of the product: argument parsing, subcommands and --json output.

Heavy imports (podman-py, textual) happen inside the handlers that need them, so `--help` and
reporting commands stay fast and never load the UI.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from symposium_tui import __version__
from symposium_tui.core.errors import NotYetAvailable, SymposiumError, UsageError

PROG = "symposium-tui"
Handler = Callable[[argparse.Namespace], int]


# -- output -------------------------------------------------------------------------------------
def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def say(text: str = "") -> None:
    print(text, flush=True)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


# -- shared plumbing ----------------------------------------------------------------------------
def open_connection(args: argparse.Namespace):  # noqa: ANN201 - engine type imported lazily
    from symposium_tui.engine.session import connect

    return connect(args.url)


def load_settings():  # noqa: ANN201
    from symposium_tui.core.config import load_settings as load
    from symposium_tui.core.paths import app_paths

    return load(app_paths().config_file)


def not_yet(command: str, issue: int) -> Handler:
    def handler(_: argparse.Namespace) -> int:
        raise NotYetAvailable(f"`{command}` is not yet available in symposium-tui {__version__} "
                              f"(planned in issue #{issue})")
    return handler


# -- doctor -------------------------------------------------------------------------------------
def cmd_doctor(args: argparse.Namespace) -> int:
    from symposium_tui.core import doctor
    from symposium_tui.core.paths import app_paths
    from symposium_tui.engine.connection import podman_binary, podman_cli_version

    paths = app_paths()
    settings = load_settings()
    binary = podman_binary()
    connection, error = None, None
    try:
        connection = open_connection(args)
    except UsageError:
        raise
    except SymposiumError as exc:
        error = exc
    try:
        facts = doctor.DoctorFacts(binary, podman_cli_version(binary) if binary else None,
                                   connection.host_fixes if connection else ())
        engine = connection.engine if connection else None
        remote = doctor.is_remote(connection.target.uri if connection else args.url)
        checks = doctor.run_checks(facts, engine, error, settings, paths, remote)
    finally:
        if connection:
            connection.close()
    ok = all(c.ok for c in checks)
    if args.json:
        emit_json({"ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        for check in checks:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[check.status.value]
            say(f"[{mark}] {check.name}: {check.detail}")
            if check.fix and not check.status.value == "ok":
                say(f"       fix: {check.fix}")
        say("all checks passed" if ok else "some checks failed")
    return 0 if ok else 1


# -- images -------------------------------------------------------------------------------------
def cmd_images_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    connection = open_connection(args)
    try:
        found = {role: connection.engine.image(name) for role, name in settings.images.by_role().items()}
    finally:
        connection.close()
    names = settings.images.by_role()
    if args.json:
        details = {role: {"name": names[role], "present": image is not None,
                          "id": image.id if image else None, "size": image.size if image else None,
                          "created": image.created.isoformat() if image and image.created else None}
                   for role, image in found.items()}
        emit_json({**names, "details": details})
        return 0
    import humanize

    rows = [[role, names[role], "yes" if image else "no — run `symposium-tui images build`",
             image.id[:12] if image else "", humanize.naturalsize(image.size) if image else ""]
            for role, image in found.items()]
    say(table(rows, ["ROLE", "IMAGE", "PRESENT", "ID", "SIZE"]))
    return 0


def cmd_images_build(args: argparse.Namespace) -> int:
    import time

    from symposium_tui.core.paths import app_paths
    from symposium_tui.engine.images import ImageBuilder

    settings = load_settings()
    connection = open_connection(args)
    started = time.monotonic()
    progress = note if not args.quiet else (lambda line: None)
    try:
        steps = ImageBuilder(connection.engine, app_paths(), settings, progress).build_all(args.force)
    finally:
        connection.close()
    elapsed = time.monotonic() - started
    if args.json:
        emit_json({"images": [{"role": s.role, "name": s.image, "built": s.built, "id": s.image_id}
                              for s in steps], "seconds": round(elapsed, 2)})
    else:
        for step in steps:
            say(f"{step.role:6} {step.image}  {'built' if step.built else 'up to date'}  {step.image_id[:12]}")
        say(f"done in {elapsed:.1f} s")
    return 0


# -- taskspaces ---------------------------------------------------------------------------------
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
    if t.dev_port:
        lines.append(f"  dev      ssh -F {_ssh_config_path()} {t.id}-dev    (127.0.0.1:{t.dev_port})")
    if t.agent_port:
        lines.append(f"  agent    ssh -F {_ssh_config_path()} {t.id}-agent  (127.0.0.1:{t.agent_port})")
    return "\n".join(lines)


def _ssh_config_path() -> str:
    from symposium_tui.core.paths import app_paths

    return str(app_paths().ssh_config)


def cmd_create(args: argparse.Namespace) -> int:
    from symposium_tui.core.ids import validate_id
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator

    request = CreateRequest(id=validate_id(args.id), repo=parse_repo(args.repo), image=args.image,
                            project_type=args.project_type, tier=args.tier,
                            security=args.security or "open")

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
    with Services(args) as services:
        listing = services.lifecycle.list()
    if args.json:
        emit_json({"taskspaces": [t.as_dict() for t in listing.taskspaces],
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
        activity = _ago(t.last_activity)
        rows.append([t.id, t.project or "-", status, str(t.dev_port or "-"), str(t.agent_port or "-"),
                     t.tier or "-", created, activity, t.drift or ""])
    say(table(rows, ["ID", "PROJECT", "STATUS", "DEV", "AGENT", "TIER", "CREATED", "ACTIVITY", "DRIFT"]))
    return 0


def _ago(stamp: str | None) -> str:
    if not stamp:
        return "-"
    from datetime import datetime, timezone

    import humanize

    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return humanize.naturaltime(datetime.now(timezone.utc) - when)


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
        say(f"removed taskspace {args.id}: " + ", ".join(removed["pod"] + removed["volumes"]))
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


# -- dashboard ----------------------------------------------------------------------------------
def cmd_dashboard(args: argparse.Namespace) -> int:
    from symposium_tui.ui.app import run_dashboard

    return run_dashboard(url=args.url)


# -- parser -------------------------------------------------------------------------------------
def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _id_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="taskspace id (a DNS label, e.g. fix-login-bug)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run taskspaces (an agent and a dev container per task) on podman. "
                    "With no command, open the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--url", metavar="URL",
                        help="podman service to use (unix:///path.sock, ssh://user@host/path); "
                             "default: CONTAINER_HOST, podman's default connection, the local "
                             "sockets, else a private service started for this command")
    parser.set_defaults(handler=cmd_dashboard, json=False)
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    def add(name: str, help_text: str, handler: Handler, *, json_flag: bool = True
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        if json_flag:
            _json_flag(p)
        return p

    add("doctor", "check podman, the engine, the OCI runtime, images, dirs and ssh", cmd_doctor)

    images = add("images", "build or list the default agent and dev images", _images_usage,
                 json_flag=False)
    images_sub = images.add_subparsers(dest="images_command", metavar="ACTION")
    build = images_sub.add_parser("build", help="build the agent and dev images (no registry needed)",
                                  description="Build the base, dev and agent images locally. The "
                                  "Debian root filesystem is cached; up-to-date images are kept.")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    build.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    _json_flag(build)
    build.set_defaults(handler=cmd_images_build)
    lst = images_sub.add_parser("list", help="show the configured images and whether they exist",
                                description="Show the configured agent and dev images.")
    _json_flag(lst)
    lst.set_defaults(handler=cmd_images_list)

    p = add("create", "create and start a taskspace", cmd_create)
    _id_arg(p)
    p.add_argument("--repo", required=True, help="repository to clone: a path, file:// or any git URL")
    p.add_argument("--image", metavar="BASE", help="dev image to use instead of the default")
    p.add_argument("--project-type", choices=["rust", "node", "python", "none"], default="none",
                   help="prepares the build cache's folders (default: none)")
    p.add_argument("--tier", metavar="NAME", help="resource tier from resource-policies.yaml")
    p.add_argument("--security", choices=["isolated", "restricted", "open"],
                   help="network security level (default: open)")

    add("ls", "list taskspaces: status, project, ports, tier, created, last activity, drift", cmd_ls)
    for name, text in (("start", "start a stopped taskspace and wait until its SSH answers"),
                       ("stop", "stop a taskspace (kept; health checks leave it stopped)"),
                       ("restart", "restart a taskspace's containers and wait until SSH answers")):
        _id_arg(add(name, text, cmd_drive))
    p = add("rm", "remove a taskspace; its agent state volume is kept unless --purge-state", cmd_rm)
    _id_arg(p)
    p.add_argument("--purge-state", action="store_true", help="also remove the agent state volume")
    p.add_argument("--force", action="store_true",
                   help="remove even if the project holds uncommitted or unpushed work")

    p = add("adjust", "change a running taskspace's memory/CPU limits live", not_yet("adjust", 5))
    _id_arg(p)
    p.add_argument("--tier", metavar="NAME", help="apply a tier's limits")
    p.add_argument("--memory", metavar="SIZE", help="memory limit, e.g. 2Gi, 512Mi")
    p.add_argument("--cpu", metavar="CPU", help="CPU limit, e.g. 1.5 or 1500m")

    p = add("health", "check every taskspace once; exit 0 only when all are healthy",
            not_yet("health", 4))
    p.add_argument("--repair", action="store_true", help="restart dead containers (with backoff)")

    p = add("monitor", "watch health and stats continuously, repairing what dies",
            not_yet("monitor", 4))
    p.add_argument("--interval", metavar="SECONDS", type=float, default=2.0, help="tick interval")

    p = add("logs", "show a taskspace's agent or dev logs", not_yet("logs", 7), json_flag=False)
    _id_arg(p)
    p.add_argument("--container", choices=["agent", "dev"], default="dev")
    p.add_argument("--follow", "-f", action="store_true", help="follow live output")
    p.add_argument("--tail", metavar="N", type=int, default=200, help="last N lines (default 200)")
    p.add_argument("--timestamps", "-t", action="store_true", help="show timestamps")

    p = add("cleanup", "preview (or --apply) removal of inactive taskspaces", not_yet("cleanup", 6))
    p.add_argument("--inactive-days", metavar="N", type=float, help="inactive for N days")
    p.add_argument("--inactive-for", metavar="DURATION", help="inactive for e.g. 90m, 2h, 0s")
    p.add_argument("--include-running", action="store_true", help="consider running taskspaces too")
    p.add_argument("--apply", action="store_true", help="carry the plan out (default: preview only)")
    p.add_argument("--force", action="store_true", help="also remove layers with unpushed work")

    p = add("gc-volumes", "preview (or --apply) removal of orphaned taskspace volumes",
            not_yet("gc-volumes", 6))
    p.add_argument("--apply", action="store_true", help="carry the plan out (default: preview only)")

    p = add("ssh-config", "show how to reach taskspaces with ssh (the Include line for ~/.ssh/config)",
            cmd_ssh_config)
    p.add_argument("id", metavar="ID", nargs="?", help="print this taskspace's entries")
    p.add_argument("--path", action="store_true", help="print only the SSH config file's path")

    p = add("export-kube", "export a taskspace as Kubernetes YAML", not_yet("export-kube", 10),
            json_flag=False)
    _id_arg(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    return parser


def _images_usage(args: argparse.Namespace) -> int:
    raise UsageError("images needs an action: `symposium-tui images build` or "
                         "`symposium-tui images list`")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SymposiumError as exc:
        note(f"{PROG}: error: {exc.message}")
        if exc.hint:
            note(f"{PROG}: fix: {exc.hint}")
        if getattr(args, "json", False):
            emit_json({"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code})
        return exc.exit_code
    except KeyboardInterrupt:
        note(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:
        return 141
