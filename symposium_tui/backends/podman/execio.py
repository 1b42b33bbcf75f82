"""A command in a container through the engine's API, with this terminal on its end: for when the
taskspace's sshd is what broke. podman-py has no interactive exec, so the exec is made with its
client and started on a connection of our own to the same socket, which podman hands over to the
command's streams (a hijacked HTTP connection): raw bytes with a TTY, else frames of stdout and
stderr."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys
import termios
import time
import tty
from collections.abc import Callable
from contextlib import ExitStack
from urllib.parse import unquote, urlparse

from symposium_tui.core.errors import EngineUnavailable, SymposiumError

API = "/v4.0.0/libpod"
HEADER = struct.Struct(">BxxxI")  # stream (1 stdout, 2 stderr), size


def connect(uri: str) -> socket.socket:
    """A new connection to the engine's API socket (unix:// on this machine or our SSH master's
    forward of a remote one; tcp://)."""
    parsed = urlparse(uri)
    try:
        if parsed.scheme in ("unix", "http+unix"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(unquote(parsed.path or parsed.netloc))
            return sock
        if parsed.scheme == "tcp":
            return socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 8080), timeout=10)
    except OSError as exc:
        raise EngineUnavailable(f"podman at {uri} is unreachable: {exc.strerror or exc}") from exc
    raise EngineUnavailable(f"an exec cannot reach podman at {uri} (unix:// or tcp:// only)")


def start(uri: str, exec_id: str, tty_mode: bool) -> tuple[socket.socket, bytes]:
    """The exec started on its own connection: the socket (now the command's streams) and what
    came after the response's headers."""
    if not all(c in "0123456789abcdef" for c in exec_id) or not exec_id:
        raise SymposiumError("podman gave a malformed exec id")
    body = json.dumps({"Detach": False, "Tty": tty_mode}).encode()
    sock = connect(uri)
    sock.settimeout(30)
    sock.sendall(f"POST {API}/exec/{exec_id}/start HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                 f"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk or len(received) > 65536:
            sock.close()
            raise SymposiumError("podman closed the exec's connection before it started")
        received += chunk
    head, rest = received.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] not in (b"101", b"200"):
        sock.close()
        detail = rest.decode(errors="replace").strip()[:300]
        raise SymposiumError(f"podman refused to start the command: {detail or b' '.join(status[1:]).decode()}")
    sock.settimeout(None)
    return sock, rest


class Frames:
    """stdout and stderr out of the multiplexed stream of an exec without a TTY."""

    def __init__(self, out: Callable[[int, bytes], None]) -> None:
        self.out, self.buffer = out, b""

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= HEADER.size:
            stream, size = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < HEADER.size + size:
                return
            payload = self.buffer[HEADER.size:HEADER.size + size]
            self.buffer = self.buffer[HEADER.size + size:]
            self.out(2 if stream == 2 else 1, payload)


def _write(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def pump(sock: socket.socket, first: bytes, tty_mode: bool, resize: Callable[[], None] | None = None) -> None:
    """This terminal (or stdin/stdout/stderr) and the command's streams, until the command ends.
    With a TTY the terminal is raw meanwhile and a window change is passed on."""
    stdin = sys.stdin.fileno()
    frames = Frames(lambda stream, data: _write(2 if stream == 2 else 1, data))
    deliver = (lambda data: _write(1, data)) if tty_mode else frames.feed
    with ExitStack() as stack:
        if tty_mode:
            saved = termios.tcgetattr(stdin)
            stack.callback(termios.tcsetattr, stdin, termios.TCSADRAIN, saved)
            tty.setraw(stdin, termios.TCSANOW)  # not TCSAFLUSH: what was typed ahead is kept
            if resize is not None:
                previous = signal.signal(signal.SIGWINCH, lambda *_: resize())
                stack.callback(signal.signal, signal.SIGWINCH, previous)
        if first:
            deliver(first)
        reading = [sock, stdin]
        while True:
            try:
                ready, _, _ = select.select(reading, [], [])
            except InterruptedError:
                continue
            if sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                deliver(data)
            if stdin in ready:
                data = os.read(stdin, 65536)
                if data:
                    sock.sendall(data)
                else:  # end of input: the command sees it; its output still comes
                    reading.remove(stdin)
                    if not tty_mode:
                        sock.shutdown(socket.SHUT_WR)


def exit_code(inspect: Callable[[], dict], wait: float = 5.0) -> int:
    """The command's exit code, once podman has it."""
    deadline = time.monotonic() + wait
    while True:
        state = inspect()
        if not state.get("Running") or time.monotonic() > deadline:
            code = state.get("ExitCode")
            return code if isinstance(code, int) and 0 <= code <= 255 else 1
        time.sleep(0.05)
