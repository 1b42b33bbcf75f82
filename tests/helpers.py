"""Small helpers shared by tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll with growing delays until predicate() is truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point in a subprocess, as a person or a script would run it."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "symposium_tui", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, input=input_text)


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int) -> None:
    """A failure a person can read: the expected exit code, a message, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip(), "a failure must say why"
