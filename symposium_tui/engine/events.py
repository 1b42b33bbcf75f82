"""Follow podman's event stream on its own connection, so it can be stopped from another thread.

requests cannot interrupt a blocked streaming read; a plain HTTP connection over the unix socket
can: `close()` shuts the socket down and the reader sees the end of the stream at once.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlencode, urlparse

from symposium_tui.core import labels as L
from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.core.models import EngineEvent
from symposium_tui.engine.normalize import event_from

API_PREFIX = "/v4.0.0/libpod"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        sock.settimeout(None)  # the stream may stay quiet for as long as nothing happens
        self.sock = sock


class EventStream:
    """Container events of ours from `since` on; iterate in a thread, close() from any thread."""

    def __init__(self, uri: str, since: float | None = None, connect_timeout: float = 5.0) -> None:
        parsed = urlparse(uri)
        if parsed.scheme != "unix":
            raise EngineUnavailable(f"following events needs a unix socket engine, not {uri}")
        self._connection = _UnixConnection(parsed.path, connect_timeout)
        params = {"stream": "true", "filters": json.dumps(
            {"type": ["container"], "label": [f"{L.OWNER}={L.OWNER_VALUE}"]})}
        if since is not None:
            params["since"] = f"{since:.3f}"
        self._path = f"{API_PREFIX}/events?{urlencode(params)}"
        self._closed = False

    def __iter__(self) -> Iterator[EngineEvent]:
        try:
            self._connection.request("GET", self._path)
            response = self._connection.getresponse()
        except OSError as exc:
            raise EngineUnavailable(f"cannot follow podman's events: {exc}") from exc
        if response.status != 200:
            raise EngineUnavailable(f"podman refused the event stream: HTTP {response.status}")
        try:
            for line in response:
                try:
                    event = event_from(json.loads(line))
                except ValueError:
                    continue
                if event is not None:
                    yield event
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            # AttributeError: http.client's reader after close() from another thread.
            if not self._closed:
                raise EngineUnavailable("podman's event stream broke") from None
        finally:
            self.close()

    def close(self) -> None:
        self._closed = True
        sock = self._connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._connection.close()
