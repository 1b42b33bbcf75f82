"""podman's REST calls this backend composes (specs.PodmanEngine): pods, volumes, containers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from symposium_tui.core.errors import EngineError, EngineNotFound
from symposium_tui.core.models import (
    ContainerInfo,
    ContainerStats,
    ExecResult,
    PathStat,
    PodInfo,
    VolumeInfo,
)
from symposium_tui.backends.podman.specs import ContainerSpec, PodSpec, VolumeSpec
import symposium_tui.backends.podman.cgroups as cgroups
from symposium_tui.backends.podman.normalize import (
    container_from_inspect,
    filter_params,
    listed,
    matching,
    pod_cgroup_path,
    pod_cpu_millis,
    pod_from_inspect,
    port_bindings,
    readable,
    require,
    path_stat_from,
    stats_list,
    tmpfs_of,
    volume_from,
    volume_mounts_of,
)
from symposium_tui.backends.podman.streams import EventStream, LogStream


class TaskspaceEngineMixin:
    """The calls PodmanBackend composes (specs.PodmanEngine)."""

    client: Any
    calls: int
    local: bool
    _call: Callable[..., Any]
    _get_json: Callable[..., Any]

    def _inspect(self, what: str, path: str) -> Any:
        try:
            return self._get_json(what, path)
        except EngineNotFound:
            return None

    def volumes(self, selector: dict[str, str] | None = None) -> list[VolumeInfo]:
        return matching(listed(volume_from, self._list("list volumes", "/volumes/json", **filter_params(selector))),
                        selector)

    def volume(self, name: str) -> VolumeInfo | None:
        return volume_from(self._inspect(f"inspect volume {name}", f"/volumes/{name}/json"))

    def pod(self, name: str) -> PodInfo | None:
        return pod_from_inspect(self._inspect(f"inspect pod {name}", f"/pods/{name}/json"))

    def container(self, name: str) -> ContainerInfo | None:
        return container_from_inspect(self._inspect(f"inspect container {name}", f"/containers/{name}/json"))

    def create_pod(self, spec: PodSpec) -> PodInfo:
        def call() -> PodInfo:
            self.client.pods.create(
                spec.name, hostname=spec.hostname, labels=spec.labels,
                portmappings=[{"host_ip": "127.0.0.1", "container_port": port, "host_port": 0,
                               "protocol": "tcp"} for port in spec.ports],
                resource_limits={"memory": {"limit": spec.memory},
                                 "cpu": {"quota": spec.cpu_millis * 100, "period": 100000}},
                volumes=[{"Name": v.name, "Dest": v.destination, "Options": ["ro" if v.read_only else "rw"]}
                         for v in spec.volumes],
                **({"Networks": {spec.network: {}}, "netns": {"nsmode": "bridge"}} if spec.network else {}))
            return require(pod_from_inspect(self.client.api.get(f"/pods/{spec.name}/json").json()),
                           f"create pod {spec.name}")
        return self._call(f"create pod {spec.name}", call)

    def pod_ports(self, name: str) -> dict[int, int]:
        return port_bindings(self._get_json(f"inspect pod {name}", f"/pods/{name}/json"))

    def _pod_action(self, name: str, action: str, **params: Any) -> None:
        def call() -> None:
            response = self.client.api.post(f"/pods/{name}/{action}", params=params or None)
            response.raise_for_status()
            body = response.json() if response.content else {}
            errors = body.get("Errs") if isinstance(body, dict) else None
            if errors:
                raise EngineError(f"podman could not {action} pod {name}: {readable(json.dumps(body))}")
        self._call(f"{action} pod {name}", call)

    def start_pod(self, name: str) -> None:
        self._pod_action(name, "start")

    def stop_pod(self, name: str, timeout: int = 10) -> None:
        self._pod_action(name, "stop", t=timeout)

    def restart_pod(self, name: str) -> None:
        self._pod_action(name, "restart")

    def _force_delete(self, what: str, path: str) -> None:
        """Remove at once (libpod's parameter is `timeout`, not `t`); gone already is fine."""
        def call() -> None:
            response = self.client.api.delete(path, params={"force": True, "timeout": 0})
            if response.status_code != 404:
                response.raise_for_status()
        self._call(f"remove {what}", call)

    def remove_pod(self, name: str) -> None:
        self._force_delete(f"pod {name}", f"/pods/{name}")

    def create_volume(self, spec: VolumeSpec) -> VolumeInfo:
        def call() -> VolumeInfo:
            kwargs: dict[str, Any] = {"labels": spec.labels}
            if spec.options:
                kwargs["driver"] = "local"
                kwargs["driver_opts"] = spec.options
            return require(volume_from(self.client.volumes.create(spec.name, **kwargs).attrs),
                           f"create volume {spec.name}")
        return self._call(f"create volume {spec.name}", call)

    def remove_volume(self, name: str) -> None:
        def call() -> None:
            response = self.client.api.delete(f"/volumes/{name}")
            if response.status_code != 404:
                response.raise_for_status()
        self._call(f"remove volume {name}", call)

    def _create_kwargs(self, spec: ContainerSpec) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"labels": spec.labels}
        if spec.name:
            kwargs["name"] = spec.name
        if spec.pod:
            kwargs["pod"] = spec.pod
        if spec.volumes:
            kwargs["volumes"] = {v.name: {"bind": v.destination, "mode": "ro" if v.read_only else "rw"}
                                 for v in spec.volumes}
        if spec.binds or spec.tmpfs:
            kwargs["mounts"] = [{"type": "bind", "source": b.source, "target": b.destination,
                                 "read_only": b.read_only} for b in spec.binds] + [
                {"type": "tmpfs", "source": "tmpfs", "target": path, "size": str(size), "mode": "1777"}
                for path, size in spec.tmpfs.items()]
        if spec.env:
            kwargs["environment"] = dict(spec.env)
        if spec.command is not None:
            kwargs["command"] = list(spec.command)
        if spec.entrypoint is not None:
            kwargs["entrypoint"] = list(spec.entrypoint)
        if spec.network:
            kwargs["network_mode"] = spec.network
        if spec.memory:
            kwargs["mem_limit"] = spec.memory
        if spec.cpu_millis:
            kwargs["cpu_quota"] = spec.cpu_millis * 100
            kwargs["cpu_period"] = 100000
        if spec.user:
            kwargs["user"] = spec.user
        return kwargs

    def create_container(self, spec: ContainerSpec) -> str:
        return self._call(f"create container {spec.name}",
                          lambda: self.client.containers.create(spec.image, **self._create_kwargs(spec)).id)

    def start_container(self, name: str) -> None:
        def call() -> None:
            response = self.client.api.post(f"/containers/{name}/start")
            if response.status_code != 304:  # 304: already running
                response.raise_for_status()
        self._call(f"start container {name}", call)

    def remove_container(self, name: str) -> None:
        self._force_delete(f"container {name}", f"/containers/{name}")

    def copy_into(self, container: str, directory: str, files: dict[str, Path]) -> None:
        """Put files (or whole folders) from this machine into a created container, owned by root:
        how a remote engine gets what a local one would bind-mount."""
        body = _tar_of(files)

        def call() -> None:
            response = self.client.api.put(f"/containers/{container}/archive", params={"path": directory},
                                           data=body, headers={"Content-Type": "application/x-tar"})
            response.raise_for_status()
        self._call(f"copy files into {container}", call)

    def archive(self, container: str, path: str) -> Any:
        """PATH of a container (its volumes too, started or not) as a tar stream, a file object the
        caller closes; None when it has no such path."""
        def call() -> Any:
            response = self.client.api.get(f"/containers/{container}/archive", params={"path": path}, stream=True)
            if response.status_code == 404:
                response.close()
                return None
            response.raise_for_status()
            response.raw.decode_content = True
            return response.raw
        return self._call(f"copy {path} out of {container}", call)

    def path_stat(self, container: str, path: str) -> PathStat | None:
        """What PATH is in a container (links resolved inside it); None when there is none."""
        def call() -> PathStat | None:
            response = self.client.api.head(f"/containers/{container}/archive", params={"path": path})
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return path_stat_from(response.headers.get("x-docker-container-path-stat"))
        return self._call(f"look at {path} in {container}", call)

    def put_archive(self, container: str, directory: str, body: BinaryIO) -> None:
        """A tar stream unpacked at DIRECTORY in a container, its owners as the tar says (the
        compatible endpoint keeps them; podman's own makes everything root's)."""
        def call() -> None:
            response = self.client.api.put(f"/containers/{container}/archive", params={"path": directory},
                                           data=body, headers={"Content-Type": "application/x-tar"},
                                           compatible=True)
            response.raise_for_status()
        self._call(f"copy files into {directory} of {container}", call)

    def mounts(self, container: str) -> tuple[list[tuple[str, str]], list[str]]:
        """(volume name, destination) of each named volume a container mounts, and its tmpfs paths."""
        attrs = self._get_json(f"inspect container {container}", f"/containers/{container}/json")
        return volume_mounts_of(attrs), tmpfs_of(attrs)

    def pull(self, name: str) -> None:
        """Pull an image from its registry; an error says why it could not."""
        def call() -> None:
            response = self.client.api.post("/images/pull", params={"reference": name, "quiet": True},
                                            stream=True, timeout=600)
            if response.status_code >= 400:
                raise EngineError(response.text.strip()[:500])
            for raw in response.iter_lines():
                try:
                    item = json.loads(raw) if raw else {}
                except ValueError:
                    continue
                if isinstance(item, dict) and item.get("error"):
                    raise EngineError(str(item["error"]).strip()[:500])
        self._call(f"pull {name}", call)

    def run(self, spec: ContainerSpec, timeout: float = 600.0,
            files: dict[str, Path] | None = None, files_dir: str = "/") -> ExecResult:
        """A throwaway container: create, (copy files in,) start, wait, collect output, remove."""
        def call() -> ExecResult:
            ctr = self.client.containers.create(spec.image, **self._create_kwargs(spec))
            try:
                if files:
                    response = self.client.api.put(f"/containers/{ctr.id}/archive", params={"path": files_dir},
                                                   data=_tar_of(files),
                                                   headers={"Content-Type": "application/x-tar"})
                    response.raise_for_status()
                ctr.start()
                code = ctr.wait(timeout=timeout)
                out = b"".join(ctr.logs(stdout=True, stderr=False))
                err = b"".join(ctr.logs(stdout=False, stderr=True))
            finally:
                ctr.remove(force=True)
            return ExecResult(int(code), out.decode(errors="replace"), err.decode(errors="replace"))
        return self._call(f"run {spec.name}", call)

    def exec(self, container: str, command: list[str], user: str | None = None) -> ExecResult:
        def call() -> ExecResult:
            ctr = self.client.containers.get(container)
            code, (out, err) = ctr.exec_run(command, demux=True, user=user or "")
            return ExecResult(int(code), (out or b"").decode(errors="replace"),
                              (err or b"").decode(errors="replace"))
        return self._call(f"run a command in {container}", call)

    def exec_interactive(self, container: str, command: list[str], *, user: str, workdir: str, tty: bool) -> int:
        """COMMAND in CONTAINER with this terminal (or stdin/stdout/stderr) on its end: execio.py."""
        from symposium_tui.backends.podman.execio import exit_code, pump, start

        body = {"Cmd": command, "AttachStdin": True, "AttachStdout": True, "AttachStderr": True, "Tty": tty,
                "User": user, "WorkingDir": workdir}

        def create() -> str:
            response = self.client.api.post(f"/containers/{container}/exec", data=json.dumps(body))
            response.raise_for_status()
            exec_id = response.json().get("Id")
            if not isinstance(exec_id, str):
                raise EngineError(f"podman gave no exec id for {container}")
            return exec_id

        exec_id = self._call(f"run a command in {container}", create)
        sock, first = start(self.uri, exec_id, tty)

        def resize() -> None:
            size = os.get_terminal_size(sys.stdout.fileno())
            try:
                self.client.api.post(f"/exec/{exec_id}/resize", params={"h": size.lines, "w": size.columns})
            except Exception:  # noqa: BLE001 - a size not passed on is no reason to stop the shell
                pass

        try:
            if tty:
                resize()
            pump(sock, first, tty, resize if tty else None)
        finally:
            sock.close()
        return self._call(f"read the exit code in {container}", lambda: exit_code(
            lambda: self.client.api.get(f"/exec/{exec_id}/json").json()))

    def stats(self) -> list[ContainerStats]:
        """CPU and memory of every running container in one call. Memory is the working set, as
        `docker stats` and `kubectl top` show it: podman's usage less the page cache the kernel
        can drop (inactive file pages), read from the container's cgroup on a local engine."""
        stats = stats_list(self._get_json("read container stats", "/containers/stats", stream=False))
        if not self.local:
            return stats
        return [replace(s, mem_usage=max(s.mem_usage - cache, 0))
                if (cache := cgroups.reclaimable_cache(s.id)) else s for s in stats]

    def restart_container(self, name: str, timeout: int = 2) -> None:
        def call() -> None:
            response = self.client.api.post(f"/containers/{name}/restart", params={"t": timeout})
            response.raise_for_status()
        self._call(f"restart container {name}", call)

    def events(self, since: float | None = None) -> EventStream:
        """Container events of ours as they happen; close() the stream to stop following."""
        self.calls += 1
        return EventStream(self.uri, since)

    def set_pod_limits(self, name: str, memory: int, cpu_millis: int) -> str:
        """Change a pod's limits: the engine's pod update where it has one, else the pod's cgroup
        on this host. Returns how it was done."""
        body = {"memory": {"limit": memory}, "cpu": {"quota": cpu_millis * 100, "period": 100000}}

        def update() -> bool:
            response = self.client.api.post(f"/pods/{name}/update", data=json.dumps(body),
                                            headers={"Content-Type": "application/json"})
            if response.status_code in (404, 405):
                return False  # podman before 5: no pod update
            response.raise_for_status()
            return True
        if self._call(f"update pod {name}", update):
            return "pod update API"
        path = pod_cgroup_path(self._get_json(f"inspect pod {name}", f"/pods/{name}/json"))
        if not self.local or not path or not cgroups.pod_cgroup_exists(path):
            raise EngineError(f"cannot change the limits of pod {name}: this engine has no pod update "
                              "and its cgroup is not on this machine")
        cgroups.write_limits(path, memory, cpu_millis)
        return "pod cgroup"

    def pod_limits(self, name: str) -> tuple[int | None, int | None]:
        """The pod's limits as its cgroup holds them (local engines), else as created."""
        data = self._get_json(f"inspect pod {name}", f"/pods/{name}/json")
        path = pod_cgroup_path(data)
        if self.local and path and cgroups.pod_cgroup_exists(path):
            return cgroups.read_limits(path)
        return None, pod_cpu_millis(data)

    def update_container(self, name: str, memory: int, cpu_millis: int) -> None:
        body = {"memory": {"limit": memory}, "cpu": {"quota": cpu_millis * 100, "period": 100000}}

        def call() -> None:
            response = self.client.api.post(f"/containers/{name}/update", data=json.dumps(body),
                                            headers={"Content-Type": "application/json"})
            response.raise_for_status()
        self._call(f"update the limits of {name}", call)

    def generate_kube(self, pod: str) -> str:
        """podman's Kubernetes YAML for a pod (its kube generation)."""
        def call() -> str:
            response = self.client.api.get("/generate/kube", params={"names": [pod], "service": False})
            response.raise_for_status()
            return response.text
        return self._call(f"generate Kubernetes YAML for {pod}", call)

    def logs(self, container: str, tail: int = 200, timestamps: bool = False) -> list[str]:
        """The last `tail` lines a container printed (never the whole history)."""
        def call() -> list[str]:
            ctr = self.client.containers.get(container)
            data = b"".join(ctr.logs(stdout=True, stderr=True, tail=tail, timestamps=timestamps))
            return data.decode(errors="replace").splitlines()
        return self._call(f"read the logs of {container}", call)

    def follow_logs(self, container: str, since: float | None = None, timestamps: bool = False) -> LogStream:
        """New output of a container as it comes; close() the stream to stop."""
        self.calls += 1
        return LogStream(self.uri, container, since, timestamps)


def _tar_of(files: dict[str, Path]) -> bytes:
    """A tar of files and folders, owned by root, not writable by others."""
    import io
    import tarfile

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode &= 0o755 if info.isdir() else 0o644 | (info.mode & 0o111)
        return info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for arcname, source in files.items():
            tar.add(str(source), arcname=arcname, filter=owned_by_root)
    return buffer.getvalue()
