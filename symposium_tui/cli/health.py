"""health and monitor: the poller from the command line."""

from __future__ import annotations

import argparse
import signal
import time
from datetime import datetime
from typing import Any

from symposium_tui.cli.output import emit_json, emit_json_line, note, say, table
from symposium_tui.cli.common import Services
from symposium_tui.core import display
from symposium_tui.core.display import ago
from symposium_tui.core.units import format_cpu
from symposium_tui.core.errors import EngineUnavailable, UsageError
from symposium_tui.core.ids import pod_name
from symposium_tui.core.net import wait_for

REPAIR_PATIENCE = 60.0  # seconds `health --repair` waits for backoff delays before reporting


def stats_text(t: Any) -> str:
    running = any(c.running for c in t.containers.values())
    if not running:
        return "not running"
    cpus = t.cpu_millis / 1000 if t.cpu_millis else 1
    quota = f"of {format_cpu(t.cpu_millis or 1000)} CPU" + ("" if cpus == 1 else "s")
    cpu = "measuring" if t.cpu_percent is None else f"{t.cpu_percent:.1f}%"  # a rate needs two samples
    return f"cpu {cpu} {quota}, mem {display.memory(t.mem_bytes, t.mem_limit or 0)}"


def _wait_restarted(services: Services, snapshot: Any, timeout: float = 60.0) -> None:
    """After repairs, wait until the restarted containers' SSH answers (or the timeout)."""
    names = {r.container for r in snapshot.restarts if r.result == "restarted"}  # containers or pods
    for status in snapshot.taskspaces:
        for role, ctr in status.containers.items():
            port = status.dev_port if role == "dev" else status.agent_port
            if (ctr.name in names or pod_name(status.id) in names) and port:
                wait_for(lambda p=port: services.ctx.backend.ssh_answers(p), timeout, lambda: None)


def _check(services: Services, repair: bool) -> tuple[Any, list[Any]]:
    """One host's health (after repairs and their backoff when asked): (snapshot, repairs)."""
    from symposium_tui.core.services.poller import Poller, PollerSettings

    poller = Poller(services.ctx, PollerSettings(repair=repair, storage_every=1e-9))
    snapshot = poller.tick()
    actions = list(snapshot.restarts)
    deadline = time.time() + REPAIR_PATIENCE
    while repair and poller.next_due is not None and poller.next_due < deadline:
        note(f"{services.ctx.host}: waiting {max(poller.next_due - time.time(), 0):.1f} s for a "
             "restart's backoff")
        time.sleep(max(poller.next_due - time.time(), 0))
        snapshot = poller.tick()
        actions += snapshot.restarts
    if repair and actions:
        _wait_restarted(services, snapshot)
        poller.settings = PollerSettings(repair=False, storage_every=1e-9)
        snapshot = poller.tick()
    if snapshot.engine_error:
        raise EngineUnavailable(snapshot.engine_error)
    return snapshot, actions


HEALTH_HEADERS = ["ID", "HEALTH", "REASON", "AGENT", "DEV", "AGT", "MEMORY", "STORAGE", "ACTIVITY"]
HEALTH_DROP = ("ACTIVITY", "AGT", "DEV", "STORAGE", "MEMORY", "AGENT")  # narrow terminals: REASON is cut last


def _health_row(t: Any) -> list[str]:
    return [t.id, t.health.state.value, t.health.reason or "", display.printable(t.agent.text()),
            str(t.dev_port or "-"), str(t.agent_port or "-"), display.memory(t.mem_bytes, t.mem_limit or 0) if t.mem_bytes is not None
            else "-", t.storage.describe() if t.storage else "-",
            ago(t.last_activity)]


def cmd_health(args: argparse.Namespace) -> int:
    if args.all_connections:
        return _health_all(args)
    with Services(args) as services:
        snapshot, actions = _check(services, args.repair)
    ok = snapshot.all_ok
    if args.json:
        emit_json({"ok": ok, "taskspaces": [t.as_dict() for t in snapshot.taskspaces],
                   "repairs": [r.as_dict() for r in actions]})
        return 0 if ok else 1
    say(table([_health_row(t) for t in snapshot.taskspaces], HEALTH_HEADERS, HEALTH_DROP, "REASON")
        if snapshot.taskspaces else "no taskspaces")
    _say_repairs_and_unhealthy(actions, [t.id for t in snapshot.taskspaces if not t.health.state.ok],
                               args.repair)
    return 0 if ok else 1


def _say_repairs_and_unhealthy(actions: list[Any], unhealthy: list[str], repaired: bool) -> None:
    for record in actions:
        say(f"repair: {record.container}: {record.reason} -> {record.result}")
    if unhealthy:
        say(f"unhealthy: {', '.join(unhealthy)}" + ("" if repaired else " (try --repair)"))


def _health_all(args: argparse.Namespace) -> int:
    from symposium_tui.cli.common import on_every_host, report_unreachable

    results = on_every_host(args, lambda services: _check(services, args.repair))
    answered = [r for r in results if r.error is None]
    ok = all(r.error is None and r.value[0].all_ok for r in results)
    if args.json:
        emit_json({"ok": ok,
                   "taskspaces": [{"host": r.host} | t.as_dict() for r in answered for t in r.value[0].taskspaces],
                   "repairs": [{"host": r.host} | a.as_dict() for r in answered for a in r.value[1]],
                   "hosts": [r.as_dict() for r in results]})
    else:
        rows = [[r.host, *_health_row(t)] for r in answered for t in r.value[0].taskspaces]
        say(table(rows, ["HOST", *HEALTH_HEADERS], HEALTH_DROP, "REASON") if rows
            else "no taskspaces on any reachable host")
        _say_repairs_and_unhealthy([a for r in answered for a in r.value[1]],
                                   [f"{t.id}@{r.host}" for r in answered for t in r.value[0].taskspaces
                                    if not t.health.state.ok], args.repair)
        report_unreachable(results)
    return 0 if ok else 1


def cmd_monitor(args: argparse.Namespace) -> int:
    from symposium_tui.core.services.poller import Poller, PollerSettings

    if not 0.2 <= args.interval <= 3600:
        raise UsageError(f"--interval {args.interval:g}: expected between 0.2 and 3600 seconds")
    from symposium_tui.core.restarts import LogTail, RestartRecord

    with Services(args) as services:
        poller = Poller(services.ctx, PollerSettings(interval=args.interval, repair=not args.no_repair,
                                                     auto_stop=not args.no_auto_stop))
        others = LogTail(services.ctx.paths.log_dir / "restarts.log")  # the dashboard's, cron's
        mine = RestartRecord(0, "", "", "", "").by
        previous = signal.signal(signal.SIGTERM, lambda *_: poller.stop())
        if not args.json:
            note(f"monitoring every {args.interval:g} s (Ctrl-C stops)")

        def tick(snapshot: Any) -> None:
            _print_tick(snapshot, args.json)
            _print_others(snapshot.time, [r for r in others.new() if r.get("by") != mine], args.json)
        try:
            poller.run(tick)
        except KeyboardInterrupt:
            poller.stop()
        finally:
            signal.signal(signal.SIGTERM, previous)
    if not args.json:
        note("monitor stopped")
    return 0


def _print_tick(snapshot: Any, as_json: bool) -> None:
    clock = datetime.fromtimestamp(snapshot.time).strftime("%H:%M:%S")
    if snapshot.engine_error:
        if as_json:
            emit_json_line({"type": "engine", "time": snapshot.time, "error": snapshot.engine_error})
        else:
            say(f"{clock} engine unreachable: {snapshot.engine_error}")
        return
    for transition in snapshot.transitions:
        if as_json:
            emit_json_line({"type": "transition", **transition.as_dict()})
        else:
            before = transition.before.state.value if transition.before else "new"
            say(f"{clock} {transition.taskspace}: {before} -> {transition.after}")
    for record in snapshot.restarts:
        if as_json:
            emit_json_line({"type": "restart", **record.as_dict()})
        else:
            say(f"{clock} {record.taskspace}: restart {record.container} ({record.reason}): {record.result}")
    for notice in snapshot.notices:
        if as_json:
            emit_json_line({"type": "notice", "time": snapshot.time, "message": notice})
        else:
            say(f"{clock} {display.printable(notice)}")
    for taskspace, sig in snapshot.signals:
        if as_json:
            emit_json_line({"type": "signal", "taskspace": taskspace, **sig.as_dict()})
        else:
            say(f"{clock} {taskspace}: agent {sig.kind}" + (f": {display.printable(sig.message)}" if sig.message else ""))
    for status in snapshot.taskspaces:
        if as_json:
            emit_json_line({"type": "stats", "time": snapshot.time, **status.as_dict()})
        else:
            stops = f" · idle stop {display.stops(status.stops_at, status.stop_held)}" if status.stops_at else ""
            say(f"{clock} {status.id} {status.health.state.value} {stats_text(status)}{stops}")


def _print_others(now: float, records: list[dict[str, Any]], as_json: bool) -> None:
    """Restarts another process made (a dashboard, `health --repair` from cron), from the log."""
    clock = datetime.fromtimestamp(now).strftime("%H:%M:%S")
    for record in records:
        fields = {k: str(record.get(k, "")) for k in ("taskspace", "container", "reason", "result", "by")}
        if as_json:
            emit_json_line({"type": "restart", "time": record.get("time"), **fields})
        else:
            say(f"{clock} {fields['taskspace']}: restart {fields['container']} ({fields['reason']}): "
                f"{fields['result']} (by {fields['by'] or 'another process'})")
