"""The command set: every command and option, with its help."""

from __future__ import annotations

import argparse
import importlib
from typing import NoReturn

from symposium_tui import __version__
from symposium_tui.cli.common import Handler
from symposium_tui.core.display import printable


class _Commands:
    """A module of command handlers, imported only when one of its commands runs: a command
    loads its own module, not the other six (a read-only command starts faster)."""

    def __init__(self, name: str) -> None:
        self._module = f"symposium_tui.cli.{name}"

    def __getattr__(self, name: str) -> Handler:
        module = self._module

        def handler(args: argparse.Namespace) -> int | None:
            return getattr(importlib.import_module(module), name)(args)
        handler.__name__ = handler.__qualname__ = name
        return handler


agent, changes, cleanup, files, health, resources, system, taskspaces = (
    _Commands(name) for name in ("agent", "changes", "cleanup", "files", "health", "resources", "system",
                                 "taskspaces"))

PROG = "symposium-tui"


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _id_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="taskspace id (a DNS label, e.g. fix-login-bug)")


def _ids_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", metavar="ID", nargs="+",
                        help="taskspace ids (DNS labels); several are done together, each reported")


class Parser(argparse.ArgumentParser):
    """argparse, with its error messages made safe to print: what the person typed is shown with
    control characters escaped (an escape sequence must not reach the terminal)."""

    def error(self, message: str) -> NoReturn:
        super().error(printable(message))


def _engine_options(parser: argparse.ArgumentParser, default: object) -> None:
    """--url and --connection, before the command or after it (default SUPPRESS there, so a value
    given before the command is kept)."""
    parser.add_argument("--url", metavar="URL", default=default,
                        help="podman service to use (unix:///path.sock, ssh://user@host[:port]/path.sock); "
                             "default: CONTAINER_HOST, podman's default connection, the local "
                             "sockets, else a private service started for this command")
    parser.add_argument("--connection", "-c", metavar="NAME", default=default,
                        help="a host by name: one of podman's connections (podman system connection "
                             "list) or of hosts: in config.yaml; `local` is this machine's engine")


def _all_connections(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--all-connections", "-A", action="store_true",
                        help=f"{what} on every host at once (this machine and each connection), "
                             "with a HOST column; an unreachable host is reported, not waited for")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Run taskspaces (an agent and a dev container per task) on podman. "
                    "With no command, open the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _engine_options(parser, None)
    parser.add_argument("--read-only", action="store_true",
                        help="dashboard only: every action that changes something is disabled and hidden")
    parser.set_defaults(handler=system.cmd_dashboard, json=False)
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    def add(name: str, help_text: str, handler: Handler, *, json_flag: bool = True
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        _engine_options(p, argparse.SUPPRESS)
        if json_flag:
            _json_flag(p)
        return p

    add("doctor", "check podman, the engine, the OCI runtime, images, dirs and ssh", system.cmd_doctor)

    images = add("images", "build or list the default agent and dev images", system.cmd_images_usage,
                 json_flag=False)
    images_sub = images.add_subparsers(dest="images_command", metavar="ACTION")
    build = images_sub.add_parser("build", help="build the agent and dev images (no registry needed)",
                                  description="Build the base, dev and agent images locally. The "
                                  "Debian root filesystem is cached; up-to-date images are kept.")
    _engine_options(build, argparse.SUPPRESS)
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    build.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    build.add_argument("--project-type", metavar="TYPE",
                       help="the images of an environment with these toolchains instead (rust, node, "
                            "python, go, or several joined by +), as create makes on first use")
    _json_flag(build)
    build.set_defaults(handler=system.cmd_images_build)
    lst = images_sub.add_parser("list", help="show the configured images and whether they exist",
                                description="Show the configured agent and dev images.")
    _json_flag(lst)
    _engine_options(lst, argparse.SUPPRESS)
    lst.set_defaults(handler=system.cmd_images_list)

    p = add("create", "create and start a taskspace", taskspaces.cmd_create)
    _id_arg(p)
    p.add_argument("--repo", required=True, help="repository to clone: a path, file:// or any git URL")
    p.add_argument("--image", metavar="BASE", help="dev image to use instead of the default")
    p.add_argument("--project-type", metavar="TYPE",
                   help="the toolchains of its dev environment: rust, node, python, go, none, or several "
                        "joined by + (default: from the files at the start commit's root)")
    p.add_argument("--tier", metavar="NAME", help="resource tier from resource-policies.yaml")
    p.add_argument("--security", choices=["isolated", "restricted", "open"],
                   help="network security level (default: security.default in config.yaml, else open)")
    p.add_argument("--ref", metavar="REF",
                   help="branch, tag or commit to start from (default: a local repository's HEAD commit, "
                        "a URL's default branch), as it is now")
    p.add_argument("--branch", metavar="NAME",
                   help="the branch the taskspace works on, made at the start commit (default: taskspace/ID)")
    p.add_argument("--agent-command", metavar="CMD",
                   help="what the agent runs, as shell words (default: agent.command in config.yaml; "
                        "\"\": none, its session holds a shell); {task} is the task file's path")
    task = p.add_mutually_exclusive_group()
    task.add_argument("--task", metavar="TEXT", help="the task handed to the agent (kept at /agent/state/task.md)")
    task.add_argument("--task-file", metavar="FILE", help="the task, from a file (UTF-8 text)")

    p = add("diff", "what a taskspace changed since its start commit: its commits, then the patch "
                    "(committed and uncommitted), running or stopped", changes.cmd_diff)
    _id_arg(p)
    p.add_argument("--stat", action="store_true", help="the commits and a diffstat instead of the patch")
    p = add("fetch", "bring a taskspace's branch into your repository (the local --repo it was made from)",
            changes.cmd_fetch)
    _id_arg(p)
    p.add_argument("--into", metavar="PATH", help="a local clone to fetch into instead (needed for a URL)")
    p.add_argument("--force", action="store_true",
                   help="move the branch there even if it has commits the taskspace's branch lacks")

    _all_connections(add("ls", "list taskspaces: status, project, ports, tier, created, last activity, drift",
                         taskspaces.cmd_ls), "list")
    for name, text in (("start", "start stopped taskspaces and wait until their SSH answers"),
                       ("stop", "stop taskspaces (kept; health checks leave them stopped)"),
                       ("restart", "restart taskspaces' containers and wait until their SSH answers")):
        _ids_arg(add(name, text, taskspaces.cmd_drive))
    p = add("rm", "remove taskspaces; their agent state volumes are kept unless --purge-state", taskspaces.cmd_rm)
    _ids_arg(p)
    p.add_argument("--purge-state", action="store_true", help="also remove the agent state volume")
    p.add_argument("--force", action="store_true",
                   help="remove even if the project holds uncommitted or unpushed work")

    p = add("exec", "a shell (or COMMAND) in a taskspace's dev container through the engine, not SSH "
                    "(for when sshd is what broke): as its user, in /workspace; exits with its exit code",
            taskspaces.cmd_exec, json_flag=False)
    _id_arg(p)
    p.add_argument("--agent", action="store_true", help="in the agent container instead")
    p.add_argument("argv", metavar="COMMAND", nargs="*", default=[],
                   help="what to run, after -- (default: a login shell): exec ID -- make test")
    p = add("ports", "what listens on TCP inside a taskspace (its pod's network, which both containers share)",
            taskspaces.cmd_ports)
    _id_arg(p)
    p = add("forward", "reach PORT inside a taskspace (a dev server the agent started) from this machine's "
                       "127.0.0.1, through the taskspace's SSH, until Ctrl-C", taskspaces.cmd_forward,
            json_flag=False)
    _id_arg(p)
    p.add_argument("port", metavar="PORT", type=int, help="the port inside the container")
    p.add_argument("--local", metavar="PORT", type=int, help="the port on this machine's 127.0.0.1 (default: PORT)")
    p.add_argument("--agent", action="store_true", help="through the agent container's SSH instead")
    p = add("cp", "copy files into or out of a taskspace, running or stopped: cp ID:PATH LOCAL, cp LOCAL ID:PATH "
                  "(PATH relative to /workspace)", files.cmd_cp)
    p.add_argument("source", metavar="SOURCE", help="ID:PATH in a taskspace, or a path here")
    p.add_argument("dest", metavar="DEST", help="a path here, or ID:PATH in a taskspace")
    p.add_argument("--agent", action="store_true", help="the agent container's files instead of the dev container's")
    p = add("attach", "the agent's session in a terminal, over SSH (detach with Ctrl-b d: the agent keeps "
                      "running)", agent.cmd_attach, json_flag=False)
    _id_arg(p)
    p = add("send", "type TEXT into the agent's session (then Enter)", agent.cmd_send)
    _id_arg(p)
    p.add_argument("text", metavar="TEXT", help="what to type")
    p.add_argument("--no-enter", action="store_true", help="type TEXT without pressing Enter after it")
    p = add("signals", "what the agent said with symposium-signal (progress, attention, done), newest last",
            agent.cmd_signals)
    _id_arg(p)
    p.add_argument("--follow", "-f", action="store_true", help="then print each new one as it comes")

    p = add("adjust", "change a taskspace's memory/CPU limits live, without restarting it",
            resources.cmd_adjust)
    _id_arg(p)
    p.add_argument("--tier", metavar="NAME", help="apply a tier's limits (from resource-policies.yaml)")
    p.add_argument("--memory", metavar="SIZE", help="memory limit, e.g. 2Gi, 512Mi")
    p.add_argument("--cpu", metavar="CPU", help="CPU limit, e.g. 1.5 or 1500m")

    p = add("security", "change a taskspace's network security level (its pod and containers are made "
                        "again on the same volumes)", taskspaces.cmd_security)
    _id_arg(p)
    p.add_argument("level", choices=["isolated", "restricted", "open"],
                   help="isolated: no connections in or out but its SSH ports; restricted: out only to "
                        "security.restricted_allow; open: podman's default network")

    p = add("health", "check every taskspace once; exit 0 only when all are healthy "
                      "(or stopped on purpose)", health.cmd_health)
    p.add_argument("--repair", action="store_true",
                   help="restart dead containers (same backoff and cap as the monitor) and report")
    _all_connections(p, "check")

    p = add("monitor", "watch health and stats continuously, restarting what dies; Ctrl-C stops",
            health.cmd_monitor)
    p.add_argument("--interval", metavar="SECONDS", type=float, default=2.0,
                   help="seconds between ticks (default 2)")
    p.add_argument("--no-repair", action="store_true", help="report only; never restart containers")
    p.add_argument("--no-auto-stop", action="store_true",
                   help="never stop idle taskspaces (config.yaml's auto_stop)")

    p = add("logs", "show a taskspace's agent or dev output (the last lines; -f follows)",
            taskspaces.cmd_logs, json_flag=False)
    _id_arg(p)
    p.add_argument("--container", choices=["agent", "dev"], default="dev")
    p.add_argument("--follow", "-f", action="store_true", help="follow live output")
    p.add_argument("--tail", metavar="N", type=int, default=200, help="last N lines (default 200)")
    p.add_argument("--timestamps", "-t", action="store_true", help="show timestamps")

    p = add("cleanup", "preview (or --apply) removal of inactive taskspaces; agent state is kept",
            cleanup.cmd_cleanup)
    p.add_argument("--inactive-days", metavar="N", type=float, help="inactive for N days (default 7)")
    p.add_argument("--inactive-for", metavar="DURATION", help="inactive for e.g. 90m, 2h, 3d, 0s")
    p.add_argument("--include-running", action="store_true", help="consider running taskspaces too")
    p.add_argument("--apply", action="store_true", help="carry the plan out (default: preview only)")
    p.add_argument("--force", action="store_true", help="also remove layers with unpushed work")
    _all_connections(p, "preview (dry run only)")

    p = add("gc-volumes", "preview (or --apply) removal of labelled volumes whose taskspace is gone",
            cleanup.cmd_gc_volumes)
    p.add_argument("--apply", action="store_true", help="carry the plan out (default: preview only)")
    p.add_argument("--force", action="store_true", help="also remove workspaces with unpushed work")

    p = add("ssh-config", "show how to reach taskspaces with ssh (the Include line for ~/.ssh/config)",
            taskspaces.cmd_ssh_config)
    p.add_argument("id", metavar="ID", nargs="?", help="print this taskspace's entries")
    p.add_argument("--path", action="store_true", help="print only the SSH config file's path")

    p = add("export-kube", "export a taskspace as Kubernetes YAML (PersistentVolumeClaims, resource limits, "
                           "labels; a note says what does not carry over)", taskspaces.cmd_export_kube,
            json_flag=False)
    _id_arg(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    return parser
