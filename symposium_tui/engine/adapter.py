"""One adapter over podman-py: engine answers in, core models out.

It hides podman 4.x/5.x differences. Seen on 4.3.1 with podman-py 5.8: `Container.status` raises
TypeError on list results ("State" is a plain string there); list-valued filter dicts are sent
mangled and match nothing; `exec_run` output carries stream headers unless demuxed. Every call has
a timeout: a socket that accepts but never answers would otherwise block forever.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import podman
from podman import errors as podman_errors

from symposium_tui.core import labels as L
from symposium_tui.core.errors import EngineError, EngineUnavailable
from symposium_tui.core.models import (
    ContainerInfo,
    ContainerState,
    EngineInfo,
    EngineVersion,
    ExecResult,
    ImageInfo,
    PodInfo,
    PortBinding,
)

DEFAULT_TIMEOUT = 30.0
BUILD_TIMEOUT = 1800.0


def parse_time(value: Any) -> datetime | None:
    """podman gives epoch seconds in some places and RFC 3339 with nanoseconds in others."""
    if value in (None, "", 0):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    text = str(value).strip()
    if text.startswith("0001-01-01"):
        return None
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, _, rest = text.partition(".")
        digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def container_state(attrs: dict[str, Any]) -> ContainerState:
    state = attrs.get("State")
    if isinstance(state, dict):
        state = state.get("Status")
    return ContainerState.parse(state)


def _ports(raw: Any) -> tuple[PortBinding, ...]:
    bindings = []
    for port in raw or []:
        if "container_port" in port:  # libpod list shape
            count = max(int(port.get("range") or 1), 1)
            for offset in range(count):
                bindings.append(PortBinding(
                    container_port=int(port["container_port"]) + offset,
                    host_ip=port.get("host_ip") or "0.0.0.0",
                    host_port=int(port.get("host_port") or 0) + offset,
                    protocol=port.get("protocol") or "tcp"))
        elif "PrivatePort" in port:  # compat shape
            bindings.append(PortBinding(int(port["PrivatePort"]), port.get("IP") or "0.0.0.0",
                                        int(port.get("PublicPort") or 0), port.get("Type") or "tcp"))
    return tuple(bindings)


def container_from_list(attrs: dict[str, Any]) -> ContainerInfo:
    names = attrs.get("Names") or [attrs.get("Name", "")]
    return ContainerInfo(
        id=attrs["Id"],
        name=names[0].lstrip("/"),
        image=attrs.get("Image", ""),
        state=container_state(attrs),
        labels=dict(attrs.get("Labels") or {}),
        pod_id=attrs.get("Pod") or "",
        pod_name=attrs.get("PodName") or "",
        is_infra=bool(attrs.get("IsInfra")),
        exit_code=attrs.get("ExitCode"),
        created=parse_time(attrs.get("Created")),
        started=parse_time(attrs.get("StartedAt")),
        ports=_ports(attrs.get("Ports")),
    )


def pod_from_list(attrs: dict[str, Any]) -> PodInfo:
    return PodInfo(
        id=attrs["Id"],
        name=attrs.get("Name", ""),
        status=(attrs.get("Status") or "").lower(),
        labels=dict(attrs.get("Labels") or {}),
        created=parse_time(attrs.get("Created")),
        container_ids=tuple(c["Id"] for c in attrs.get("Containers") or []),
    )


def image_from_list(attrs: dict[str, Any]) -> ImageInfo:
    names = attrs.get("Names") or attrs.get("RepoTags") or []
    return ImageInfo(
        id=attrs["Id"],
        names=tuple(n for n in names if n and n != "<none>:<none>"),
        size=int(attrs.get("Size") or 0),
        created=parse_time(attrs.get("Created")),
        labels=dict(attrs.get("Labels") or {}),
    )


def label_filters(selector: dict[str, str] | None) -> list[str] | None:
    """podman-py mangles dicts with list values; the list form is sent right and ANDed."""
    if not selector:
        return None
    return [f"label={k}={v}" for k, v in selector.items()]


class Engine:
    """A connected podman engine. Methods return core models or raise core errors."""

    def __init__(self, uri: str, *, identity: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 source: str = "") -> None:
        self.uri = uri
        self.source = source
        self.timeout = timeout
        kwargs: dict[str, Any] = {"base_url": uri, "timeout": timeout}
        if identity:
            kwargs["identity"] = identity
        try:
            self.client = podman.PodmanClient(**kwargs)
        except (podman_errors.PodmanError, ValueError, OSError) as exc:
            raise EngineUnavailable(f"cannot use podman at {uri}: {exc}") from exc

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls -----------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except podman_errors.NotFound:
            raise
        except podman_errors.APIError as exc:
            if exc.response is None:
                raise EngineUnavailable(f"podman at {self.uri} is unreachable ({what})") from exc
            raise EngineError(f"podman refused to {what}: {exc.explanation or exc}") from exc
        except (podman_errors.PodmanError, OSError) as exc:
            raise EngineUnavailable(f"podman at {self.uri} is unreachable ({what}): {exc}") from exc
        except Exception as exc:  # requests' own errors (timeouts, connection resets)
            if type(exc).__module__.startswith(("requests", "urllib3")):
                raise EngineUnavailable(f"podman at {self.uri} did not answer ({what}): {exc}") from exc
            raise

    def _get_json(self, what: str, path: str, **params: Any) -> Any:
        def call() -> Any:
            response = self.client.api.get(path, params=params or None)
            response.raise_for_status()
            return response.json()
        return self._call(what, call)

    def ping(self) -> bool:
        try:
            return bool(self._call("ping", self.client.ping))
        except (EngineUnavailable, EngineError):
            return False

    def version(self) -> EngineVersion:
        data = self._call("read its version", self.client.version)
        return EngineVersion(
            version=str(data.get("Version", "")),
            api_version=str(data.get("ApiVersion", "")),
            os=str(data.get("Os", "")),
            arch=str(data.get("Arch", "")),
        )

    def info(self) -> EngineInfo:
        data = self._call("describe itself", self.client.info)
        host, store = data.get("host", {}), data.get("store", {})
        return EngineInfo(
            version=self.version(),
            oci_runtime=(host.get("ociRuntime") or {}).get("name", ""),
            cgroup_manager=host.get("cgroupManager", ""),
            cgroup_version=host.get("cgroupVersion", ""),
            graph_root=store.get("graphRoot", ""),
            volume_path=store.get("volumePath", ""),
            rootless=bool((host.get("security") or {}).get("rootless")),
            network_backend=host.get("networkBackend", ""),
        )

    def containers(self, selector: dict[str, str] | None = None) -> list[ContainerInfo]:
        filters = label_filters(selector)
        params: dict[str, Any] = {"all": True}
        if filters:
            params["filters"] = json.dumps(_filters_dict(filters))
        return [container_from_list(c) for c in
                self._get_json("list containers", "/containers/json", **params)]

    def pods(self, selector: dict[str, str] | None = None) -> list[PodInfo]:
        filters = label_filters(selector)
        params = {"filters": json.dumps(_filters_dict(filters))} if filters else {}
        return [pod_from_list(p) for p in self._get_json("list pods", "/pods/json", **params)]

    def images(self) -> list[ImageInfo]:
        return [image_from_list(i) for i in self._get_json("list images", "/images/json")]

    def image(self, name: str) -> ImageInfo | None:
        try:
            data = self._get_json(f"inspect image {name}", f"/images/{name}/json")
        except EngineError:
            return None
        except podman_errors.NotFound:
            return None
        return ImageInfo(
            id=data["Id"],
            names=tuple(data.get("RepoTags") or data.get("NamesHistory") or ()),
            size=int(data.get("Size") or 0),
            created=parse_time(data.get("Created")),
            labels=dict(data.get("Labels") or (data.get("Config") or {}).get("Labels") or {}),
        )

    def run_throwaway(self, image: str, command: list[str], *, timeout: float = 60.0) -> ExecResult:
        """Create, start, wait for and remove a container: proves the OCI runtime works."""
        def run() -> ExecResult:
            ctr = self.client.containers.create(
                image, command=command, entrypoint=[], labels=L.ours("probe"), network_mode="none")
            try:
                ctr.start()
                code = ctr.wait(timeout=timeout)
                out = b"".join(ctr.logs(stdout=True, stderr=False))
                err = b"".join(ctr.logs(stdout=False, stderr=True))
            finally:
                ctr.remove(force=True)
            return ExecResult(int(code), out.decode(errors="replace"), err.decode(errors="replace"))
        return self._call(f"run a container from {image}", run)

    def build(self, context_tar: Path, tag: str, *, containerfile: str = "Containerfile",
              labels: dict[str, str] | None = None, build_args: dict[str, str] | None = None,
              on_output: Callable[[str], None] | None = None
              ) -> str:
        """Build an image from a context tarball, streaming its output; returns the image id."""
        params: dict[str, Any] = {"t": tag, "dockerfile": containerfile, "layers": True, "rm": True,
                                  "forcerm": True, "networkmode": "none"}
        if labels:
            params["labels"] = json.dumps(labels)
        if build_args:
            params["buildargs"] = json.dumps(build_args)

        def call() -> str:
            with open(context_tar, "rb") as body:
                response = self.client.api.post(
                    "/build", params=params, data=body, headers={"Content-Type": "application/x-tar"},
                    stream=True, timeout=BUILD_TIMEOUT)
                if response.status_code >= 400:
                    raise EngineError(f"podman refused to build {tag}: {response.text.strip()}")
                return self._follow_build(response.iter_lines(), tag, on_output)
        return self._call(f"build {tag}", call)

    @staticmethod
    def _follow_build(lines: Iterable[bytes], tag: str, on_output: Callable[[str], None] | None) -> str:
        last = ""
        for raw in lines:
            if not raw:
                continue
            try:
                item = json.loads(raw)
            except ValueError:
                continue
            if item.get("error"):
                raise EngineError(f"building {tag} failed: {item['error'].strip()}")
            text = item.get("stream", "")
            if text:
                last = text.strip() or last
                if on_output:
                    on_output(text.rstrip("\n"))
        return last

    def remove_image(self, name: str) -> None:
        self._call(f"remove image {name}", lambda: self.client.images.remove(name, force=True))


def _filters_dict(filters: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for item in filters:
        key, _, value = item.partition("=")
        grouped.setdefault(key, []).append(value)
    return grouped
