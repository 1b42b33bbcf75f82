"""The SSH readiness probe says what happened when no SSH server greets (real local sockets)."""

from __future__ import annotations

import socket
import threading

from symposium_tui.core.net import PROBE_IDENT, ssh_banner, ssh_probe


def serve_once(reply: bytes | None, received: list[bytes] | None = None) -> tuple[int, threading.Thread]:
    """A one-connection server on 127.0.0.1 that sends REPLY (None: sends nothing) and closes;
    its port and its thread (join it before reading RECEIVED)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def run() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                if reply is not None:
                    conn.sendall(reply)
                    if received is not None:
                        conn.settimeout(2)
                        received.append(conn.recv(256))
                else:
                    conn.recv(1)  # wait until the probe gives up

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


def test_a_greeting_is_returned_and_answered():
    received: list[bytes] = []
    port, server = serve_once(b"SSH-2.0-OpenSSH_9.2\r\n", received)
    assert ssh_probe(port) == ("SSH-2.0-OpenSSH_9.2", "")
    server.join(5)
    assert received == [PROBE_IDENT]


def test_refused_silent_closed_and_foreign_answers_are_told_apart():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        free = taken.getsockname()[1]
    assert ssh_probe(free) == (None, f"127.0.0.1:{free}: Connection refused")
    silent, _ = serve_once(None)
    assert ssh_probe(silent, timeout=0.3) == (
        None, f"127.0.0.1:{silent} accepted the connection but sent nothing within 0.3 s")
    closed, _ = serve_once(b"")
    assert ssh_probe(closed) == (None, f"127.0.0.1:{closed} closed the connection without an SSH greeting")
    http, _ = serve_once(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    banner, why = ssh_probe(http)
    assert banner is None and why.startswith(f"127.0.0.1:{http} answered something that is not SSH: b'HTTP/1.1 400")
    assert ssh_banner(http) is None
