"""What every command shares: the engine connection and settings."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from symposium_tui.cli.output import note

Handler = Callable[[argparse.Namespace], int]


def open_connection(args: argparse.Namespace, settings=None):  # noqa: ANN001,ANN201 - lazy types
    """The engine of --url, --connection NAME, or the default backend's order."""
    from symposium_tui.backends import connect

    settings = settings or load_settings()
    return connect(getattr(args, "url", None), connection=getattr(args, "connection", None),
                   configured=settings.hosts, network_backend=settings.network_backend)


def check_tier(tier: str | None) -> None:
    """An unknown --tier is a usage error found before any engine is reached (the policy file is
    read again by the command; it is small)."""
    if tier is None:
        return
    from symposium_tui.core.paths import app_paths
    from symposium_tui.core.policy import builtin_policy, load_policy

    path = app_paths().policy_file
    # Read only: a refused command writes nothing (not even the seed policy file); only a corrupt
    # file is moved aside, and that is said.
    notices: list[str] = []
    policy = load_policy(path, notices) if path.exists() else builtin_policy()
    for notice in notices:
        note(f"note: {notice}")
    policy.tier_limits(tier)


def load_settings():  # noqa: ANN201 - imported when a command runs, not at start
    from symposium_tui.session import load_settings as load

    return load()


class HostResult:
    """What one host gave for --all-connections: a value, or why it could not (it did not answer,
    or `answered`: it did, but the work failed there)."""

    def __init__(self, host: str, value: object = None, error: str | None = None, where: str = "",
                 answered: bool = False) -> None:
        self.host = host
        self.value = value
        self.error = error
        self.where = where
        self.answered = answered

    def as_dict(self) -> dict[str, object]:
        return {"name": self.host, "reachable": self.error is None or self.answered, "error": self.error,
                "where": self.where}


def on_every_host(args: argparse.Namespace, work: Callable[[object], object]) -> list[HostResult]:
    """Run work(services) on this machine's engine and on every named connection at once, one
    thread and one connection per host: a slow or unreachable host never holds up the others'
    answers (each ends by its own timeouts)."""
    from concurrent.futures import ThreadPoolExecutor

    from symposium_tui.core.display import one_line
    from symposium_tui.core.errors import SymposiumError, UsageError
    from symposium_tui.core.hosts import LOCAL
    from symposium_tui.backends import connect, named_hosts

    if getattr(args, "url", None) or getattr(args, "connection", None):
        raise UsageError("--all-connections goes to every host; leave out --url and --connection")
    settings = load_settings()
    names = [LOCAL] + [h.name for h in named_hosts(configured=settings.hosts)]

    def one(name: str) -> HostResult:
        try:
            connection = connect(use_connections=False, network_backend=settings.network_backend) \
                if name == LOCAL else \
                connect(connection=name, configured=settings.hosts)
        except SymposiumError as exc:
            return HostResult(name, error=exc.message)
        except OSError as exc:
            return HostResult(name, error=f"{exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - one host's failure is that host's line
            return HostResult(name, error=one_line(f"{type(exc).__name__}: {exc}"))
        try:
            with Services(args, connection) as services:
                return HostResult(name, work(services), where=connection.address)
        except UsageError:
            raise
        except SymposiumError as exc:
            return HostResult(name, error=exc.message, where=connection.address)
        except Exception as exc:  # noqa: BLE001 - whatever one host answered ends its line, not the command
            return HostResult(name, error=one_line(f"{type(exc).__name__}: {exc}"), where=connection.address,
                              answered=True)

    with ThreadPoolExecutor(max_workers=min(len(names), 8), thread_name_prefix="host") as pool:
        return list(pool.map(one, names))


def report_unreachable(results: list[HostResult]) -> bool:
    """Say which hosts did not answer, or failed (on stderr); True when none did."""
    for result in results:
        if result.error is not None:
            note(f"host {result.host}: {'failed' if result.answered else 'unreachable'}: {result.error}")
    return all(r.error is None for r in results)


class Services:
    """The host session of one command: connected, interrupted creates finished off first, and
    what happened on the side said when it ends."""

    def __init__(self, args: argparse.Namespace, connection=None) -> None:  # noqa: ANN001
        from symposium_tui.session import HostSession

        self.settings = load_settings()
        connection = connection or open_connection(args, self.settings)
        try:
            self.session = HostSession.on(connection, self.settings)
            for done in self.session.recover():
                note(done)
        except BaseException:
            connection.close()  # __exit__ never runs for a constructor that failed
            raise
        self.connection, self.ctx, self.lifecycle = connection, self.session.ctx, self.session.lifecycle

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        for notice in self.ctx.take_notices():
            note(f"note: {notice}")
        self.session.close()
