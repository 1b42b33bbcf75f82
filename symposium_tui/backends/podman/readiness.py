"""Until a container's SSH server answers on its published port: the wait of create, start and
restart, what it says when it gives up, and the one repair it may make (a lost port forward)."""

from __future__ import annotations

import time

from symposium_tui.backends.podman.specs import PodmanEngine
from symposium_tui.core.backend import RepairReport
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import pod_name
from symposium_tui.core.net import wait_for
from symposium_tui.core.taskspace import AGENT_SSH_PORT, DEV_SSH_PORT

READY_TIMEOUT = 60.0
REPAIR_AFTER = 10.0  # seconds of a silent port, with sshd listening inside, before the pod is restarted once
REPAIR_EVERY = 5.0  # after that, how often to look again until it is repaired or ready
PATIENT_PROBE = 3.0  # seconds the last probe before a repair waits for a greeting (busy cores)


def wait_ssh_ready(engine: PodmanEngine, container: str, port: int | None,
                   repair: PodRepair | None = None) -> None:
    """Until the container's SSH server greets on its published port; fails fast if it dies.

    When the port stays silent for REPAIR_AFTER seconds although sshd listens inside the
    container (and a patient probe confirms it), the engine's port forward is what is broken
    (netavark can lose or shadow its rules when pods come and go at once): REPAIR is called
    (restarting the pod makes the forwards again; at most once per REPAIR object), and the wait
    goes on. It looks again every REPAIR_EVERY seconds until then."""
    next_look = time.monotonic() + REPAIR_AFTER

    def still_worth_waiting() -> str | None:
        nonlocal next_look
        info = engine.container(container)
        if info is None:
            return f"{container} disappeared"
        if not info.running:
            return f"{container} is {info.state.value} (exit code {info.exit_code})"
        if repair is not None and port and not repair.done and time.monotonic() >= next_look:
            if (lost := port_forward_lost(engine, container, port)) is not None:
                repair(lost)
            next_look = time.monotonic() + REPAIR_EVERY
        return None
    why = wait_for(lambda: bool(port) and engine.ssh_answers(port), READY_TIMEOUT, still_worth_waiting)
    if why is not None:
        if port and why.startswith("not ready"):
            why += "; " + look_inside(engine, container, port)[1]
        # its output is kept in the error: a failed create removes the container and its log
        output = last_output(engine, container)
        raise SymposiumError(f"{container} never became ready: {why}; "
                             + (f"its last output: {' | '.join(output)}" if output else "it printed nothing"),
                             hint="the image must run an SSH server on its port (2222 dev, 2223 agent), as "
                                  "the product's own images do" if "exit code" in why else None)


def last_output(engine: PodmanEngine, container: str, lines: int = 8) -> list[str]:
    """The container's last lines of output, each one line of printable text."""
    try:
        output = engine.logs(container, tail=lines)
    except SymposiumError:
        return []
    cleaned = [" ".join("".join(c if c.isprintable() else " " for c in line).split())[:200] for line in output]
    return [line for line in cleaned if line][-lines:]


def port_forward_lost(engine: PodmanEngine, container: str, port: int) -> str | None:
    """Why the published PORT looks lost while sshd listens inside the container; None when it
    is not that (sshd not listening yet, the container stopping, or a patient probe answered)."""
    listening, detail = look_inside(engine, container, port)
    if not listening or engine.ssh_why_not(port, timeout=PATIENT_PROBE) is None:
        return None
    info = engine.container(container)
    if info is None or not info.running:  # stopped meanwhile (someone's `stop`): not ours to start
        return None
    return f"{container}'s sshd listens but its published port does not answer ({detail})"


class PodRepair:
    """The one repair wait_ssh_ready may ask for: restart the pod, which makes its port forwards
    again. Reported (core logs it in restarts.log and says it), so a person can see it happened."""

    def __init__(self, engine: PodmanEngine, taskspace: str, report: RepairReport) -> None:
        self.engine, self.pod, self.done = engine, pod_name(taskspace), False
        self.report = report

    def __call__(self, why: str) -> None:
        self.done = True
        try:
            self.engine.restart_pod(self.pod)
        except SymposiumError as exc:
            self.report(self.pod, why, f"failed: {exc.message}")
            raise SymposiumError(f"{why}; restarting pod {self.pod} to make its port forwards again "
                                 f"failed: {exc.message}", hint=exc.hint) from exc
        self.report(self.pod, why, "restarted",
                    f"{why}; restarted pod {self.pod} to make its port forwards again")


# Whether anything listens on the SSH port inside the container's network namespace
# (/proc/net/tcp*: state 0A is LISTEN), and the last lines sshd wrote.
INSIDE_CHECK = r"""
hex=$(printf '%04X' "$1")
if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {f=1} END {exit !f}'
then echo "inside, sshd listens on port $1"
else echo "inside, nothing listens on port $1"
fi
tail -n 3 /var/log/sshd.log 2>/dev/null | sed 's/^/sshd: /'
"""


def look_inside(engine: PodmanEngine, container: str, port: int) -> tuple[bool, str]:
    """(whether sshd listens inside the container, what a person needs when SSH never greeted):
    what the published PORT did, and what the container shows. A port forward gone wrong reads
    differently from a dead sshd."""
    parts = [engine.ssh_why_not(port) or f"no SSH greeting on port {port}"]
    inner = DEV_SSH_PORT if container.endswith("-dev") else AGENT_SSH_PORT
    try:
        result = engine.exec(container, ["sh", "-c", INSIDE_CHECK, "sh", str(inner)])
    except SymposiumError as exc:
        parts.append(f"could not look inside: {exc}")
        return False, "; ".join(parts)
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    parts.extend(lines)
    return f"inside, sshd listens on port {inner}" in lines, "; ".join(parts)
