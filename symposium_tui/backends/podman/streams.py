"""Follow podman's streaming endpoints (events, logs) on a connection of their own, so a stream can
be stopped from another thread: requests cannot interrupt a blocked read, a plain HTTP connection
over the unix socket can (close() shuts the socket down; the reader sees the end at once).
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
from collections.abc import Iterator
from urllib.parse import urlencode, urlparse

from symposium_tui.core import labels as L
from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.core.models import EngineEvent
from symposium_tui.backends.podman.normalize import event_from

API_PREFIX = "/v4.0.0/libpod"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        sock.settimeout(None)  # a stream may stay quiet for as long as nothing happens
        self.sock = sock


class UnixStream:
    """One streaming GET; iterate `response()` in a thread, close() from any thread."""

    def __init__(self, uri: str, path: str, params: dict[str, str], what: str,
                 connect_timeout: float = 5.0) -> None:
        parsed = urlparse(uri)
        if parsed.scheme != "unix":
            raise EngineUnavailable(f"following {what} needs a unix socket engine, not {uri}")
        self.what = what
        self._connection = _UnixConnection(parsed.path, connect_timeout)
        self._path = f"{API_PREFIX}{path}?{urlencode(params)}"
        self.closed = False

    def response(self) -> http.client.HTTPResponse:
        try:
            self._connection.request("GET", self._path)
            response = self._connection.getresponse()
        except OSError as exc:
            raise EngineUnavailable(f"cannot follow podman's {self.what}: {exc}") from exc
        if response.status != 200:
            raise EngineUnavailable(f"podman refused to stream {self.what}: HTTP {response.status}")
        return response

    def broke(self) -> None:
        """Called when reading failed: an error unless we closed it ourselves."""
        if not self.closed:
            raise EngineUnavailable(f"podman's {self.what} stream broke") from None

    def close(self) -> None:
        self.closed = True
        sock = self._connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._connection.close()


# AttributeError: http.client's reader after close() from another thread.
READ_ERRORS = (OSError, http.client.HTTPException, ValueError, AttributeError, struct.error)


class EventStream(UnixStream):
    """Container events of ours from `since` on."""

    def __init__(self, uri: str, since: float | None = None) -> None:
        params = {"stream": "true", "filters": json.dumps(
            {"type": ["container"], "label": [f"{L.OWNER}={L.OWNER_VALUE}"]})}
        if since is not None:
            params["since"] = f"{since:.3f}"
        super().__init__(uri, "/events", params, "events")

    def __iter__(self) -> Iterator[EngineEvent]:
        response = self.response()
        try:
            for line in response:
                try:
                    event = event_from(json.loads(line))
                except ValueError:
                    continue
                if event is not None:
                    yield event
        except READ_ERRORS:
            self.broke()
        finally:
            self.close()


class LogStream(UnixStream):
    """A container's output as it comes, line by line (stdout and stderr together)."""

    def __init__(self, uri: str, container: str, since: float | None, timestamps: bool) -> None:
        params = {"follow": "true", "stdout": "true", "stderr": "true",
                  "timestamps": "true" if timestamps else "false"}
        if since is not None:
            params["since"] = f"{int(since)}"
        super().__init__(uri, f"/containers/{container}/logs", params, f"logs of {container}")

    def __iter__(self) -> Iterator[str]:
        response = self.response()
        pending = b""
        try:
            while True:
                header = response.read(8)
                if len(header) < 8:
                    break
                _, size = struct.unpack(">BxxxL", header)
                pending += response.read(size)
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line.decode(errors="replace")
        except READ_ERRORS:
            self.broke()
        finally:
            if pending:
                yield pending.decode(errors="replace")
            self.close()
