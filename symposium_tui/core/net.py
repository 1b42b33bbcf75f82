"""Readiness by the protocol, not by sleeping: an SSH server greets with 'SSH-'."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

PROBE_IDENT = b"SSH-2.0-symposium-health\r\n"


def ssh_banner(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> str | None:
    """The server's identification line, or None when nothing SSH answers on the port.

    The probe answers with an identification of its own before closing, so sshd sees an orderly
    version exchange rather than a broken one.
    """
    banner, _ = ssh_probe(port, host, timeout)
    return banner


def ssh_probe(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> tuple[str | None, str]:
    """(identification line, "") when an SSH server greets on HOST:PORT, else (None, what
    happened instead): refused, timed out, closed, or something that is not SSH."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            try:
                data = sock.recv(256)
            except TimeoutError:
                return None, f"{host}:{port} accepted the connection but sent nothing within {timeout:g} s"
            if data.startswith(b"SSH-"):
                sock.sendall(PROBE_IDENT)
    except TimeoutError:
        return None, f"connecting to {host}:{port} timed out after {timeout:g} s"
    except OSError as exc:
        return None, f"{host}:{port}: {exc.strerror or exc}"
    if not data:
        return None, f"{host}:{port} closed the connection without an SSH greeting"
    if not data.startswith(b"SSH-"):
        return None, f"{host}:{port} answered something that is not SSH: {data[:40]!r}"
    return data.split(b"\r\n", 1)[0].decode(errors="replace"), ""


def wait_for(check: Callable[[], bool], timeout: float, still_worth_waiting: Callable[[], str | None]
             ) -> str | None:
    """Poll check() with growing delays. Returns None when it passed, else why it never did."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if check():
            return None
        if (why := still_worth_waiting()) is not None:
            return why
        if time.monotonic() >= deadline:  # one last look: still_worth_waiting may have taken a while
            return None if check() else f"not ready after {timeout:.0f} s"
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
