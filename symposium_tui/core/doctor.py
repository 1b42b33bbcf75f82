"""`doctor`: one check per line, each with what was found and the fix to try.

The checks read facts through small interfaces, so the same logic serves the CLI and the dashboard.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from symposium_tui.core.config import Settings
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import (
    CheckResult,
    CheckStatus,
    EngineInfo,
    ExecResult,
    ImageInfo,
)
from symposium_tui.core.paths import AppPaths
from symposium_tui.core.taskspace import DEV_SSH_PORT

MIN_PODMAN = (4, 3)
OK, FAIL, WARN = CheckStatus.OK, CheckStatus.FAIL, CheckStatus.WARN
INSTALL_PODMAN = "apt-get install podman runc (Debian/Ubuntu) or dnf install podman (Fedora)"


class EngineLike(Protocol):
    uri: str
    source: str

    def info(self) -> EngineInfo: ...
    def image(self, name: str) -> ImageInfo | None: ...
    def run_throwaway(self, image: str, command: list[str], *, timeout: float = 60.0) -> ExecResult: ...
    def probe_pod(self, image: str, port: int, *, timeout: float = 30.0) -> tuple[int, str | None]: ...


@dataclass(frozen=True)
class DoctorFacts:
    podman_path: str | None
    podman_version: str | None
    host_notes: tuple[str, ...] = ()


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("-")[0].split(".") if p.isdigit())


def check_binary(facts: DoctorFacts, remote_ok: bool) -> CheckResult:
    if facts.podman_path is None:
        status = WARN if remote_ok else FAIL
        return CheckResult("podman binary", status, "podman is not on PATH", INSTALL_PODMAN)
    if facts.podman_version is None:
        return CheckResult("podman binary", FAIL, f"{facts.podman_path} does not run",
                           f"reinstall podman: {INSTALL_PODMAN}")
    if _version_tuple(facts.podman_version)[:2] < MIN_PODMAN:
        return CheckResult("podman binary", FAIL, f"podman {facts.podman_version} is too old",
                           f"install podman {MIN_PODMAN[0]}.{MIN_PODMAN[1]} or newer")
    return CheckResult("podman binary", OK, f"podman {facts.podman_version} at {facts.podman_path}")


def check_api(engine: EngineLike | None, error: SymposiumError | None,
              notes: tuple[str, ...]) -> tuple[CheckResult, EngineInfo | None]:
    if engine is None:
        message = error.message if error else "no engine"
        fix = (error.hint if error and error.hint else
               "start one (podman system service), or pass --url / set CONTAINER_HOST")
        return CheckResult("engine API", FAIL, message, fix), None
    try:
        info = engine.info()
    except SymposiumError as exc:
        return CheckResult("engine API", FAIL, exc.message, exc.hint or ""), None
    detail = (f"podman {info.version.version} (API {info.version.api_version}) at {engine.uri} "
              f"via {engine.source}; runtime {info.oci_runtime}, cgroups {info.cgroup_version}")
    if notes:
        detail += "; host fixes: " + "; ".join(notes)
    return CheckResult("engine API", OK, detail), info


def _runtime_fix(stderr: str) -> str:
    text = stderr.lower()
    if "hybrid mode" in text or "crun" in text:
        return "crun fails on hybrid cgroups: install runc and set runtime = \"runc\" in containers.conf"
    if "rlimit" in text:
        return ("podman's default ulimits exceed this host's hard limit: set default_ulimits = "
                "[\"nofile=16384:16384\", \"nproc=16384:16384\"] in containers.conf")
    return "see `podman info` and the engine's log"


def check_runtime(engine: EngineLike | None, info: EngineInfo | None, settings: Settings) -> CheckResult:
    if engine is None or info is None:
        return CheckResult("OCI runtime", FAIL, "not checked: no engine", "fix the engine API first")
    names = [settings.images.dev, settings.images.agent, settings.images.base]
    image = next((n for n in names if engine.image(n) is not None), None)
    if image is None:
        return CheckResult("OCI runtime", FAIL,
                           f"{info.oci_runtime}: not checked: no image to start a container from",
                           "symposium-tui images build")
    try:
        result = engine.run_throwaway(image, ["true"])
    except SymposiumError as exc:
        return CheckResult("OCI runtime", FAIL, f"{info.oci_runtime} cannot start a container: "
                           f"{exc.message}", _runtime_fix(exc.message))
    if result.exit_code != 0:
        return CheckResult("OCI runtime", FAIL, f"a throwaway container exited {result.exit_code}: "
                           f"{result.stderr.strip()[:200]}", _runtime_fix(result.stderr))
    return CheckResult("OCI runtime", OK, f"{info.oci_runtime} started and removed a container from {image}")


PORT_FIX = {
    "netavark": "podman's netavark forwards the published port (iptables -t nat -S NETAVARK-HOSTPORT-DNAT); "
                "check that iptables works here and nothing flushes its rules",
    "cni": "CNI's portmap plugin forwards the published port (iptables -t nat -S CNI-HOSTPORT-DNAT); "
           "check that containernetworking-plugins is installed and iptables works here",
}


def check_pod(engine: EngineLike | None, info: EngineInfo | None, settings: Settings) -> CheckResult:
    """What create needs, end to end: a pod (its infra container needs podman's pause binary) that
    publishes an SSH port on 127.0.0.1, and an sshd in it that answers there."""
    name = "pod and SSH port"
    if engine is None or info is None:
        return CheckResult(name, FAIL, "not checked: no engine", "fix the engine API first")
    backend = info.network_backend or "unknown"
    if engine.image(settings.images.dev) is None:
        return CheckResult(name, FAIL, f"network backend {backend}; not checked: no dev image "
                           f"({settings.images.dev})", "symposium-tui images build")
    try:
        host_port, why = engine.probe_pod(settings.images.dev, DEV_SSH_PORT)
    except SymposiumError as exc:
        return CheckResult(name, FAIL, f"network backend {backend}; a throwaway pod could not be made: "
                           f"{exc.message}", exc.hint or "see `podman info` and the engine's log")
    if why is not None:
        return CheckResult(name, FAIL, f"network backend {backend}; a throwaway pod published "
                           f"127.0.0.1:{host_port}, but {why}", PORT_FIX.get(backend, "see the engine's log"))
    return CheckResult(name, OK, f"network backend {backend}: a throwaway pod published 127.0.0.1:{host_port} "
                       f"and its sshd answered there")


def check_images(engine: EngineLike | None, settings: Settings) -> CheckResult:
    if engine is None:
        return CheckResult("default images", FAIL, "not checked: no engine", "fix the engine API first")
    missing = [f"{role} ({name})" for role, name in settings.images.by_role().items()
               if engine.image(name) is None]
    if missing:
        return CheckResult("default images", FAIL, "missing: " + ", ".join(missing),
                           "symposium-tui images build")
    present = ", ".join(f"{role} {name}" for role, name in settings.images.by_role().items())
    return CheckResult("default images", OK, present)


def check_dirs(paths: AppPaths) -> CheckResult:
    problems = []
    for role, directory in paths.writable_dirs().items():
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".doctor-"):
                pass
        except OSError as exc:
            problems.append(f"{role} dir {directory}: {exc.strerror or exc}")
    if problems:
        return CheckResult("config/state dirs", FAIL, "; ".join(problems),
                           "make them writable, or point XDG_CONFIG_HOME / XDG_DATA_HOME / "
                           "XDG_STATE_HOME / XDG_CACHE_HOME at writable dirs")
    return CheckResult("config/state dirs", OK, f"writable: config {paths.config_dir}, "
                       f"data {paths.data_dir}, state {paths.state_dir}, cache {paths.cache_dir}")


def check_ssh(which: Callable[[str], str | None] = shutil.which) -> CheckResult:
    ssh = which("ssh")
    if ssh is None:
        return CheckResult("SSH client", FAIL, "ssh is not on PATH",
                           "apt-get install openssh-client")
    try:
        done = subprocess.run([ssh, "-V"], capture_output=True, text=True, timeout=10)
        version = (done.stderr or done.stdout).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckResult("SSH client", FAIL, f"{ssh} does not run: {exc}",
                           "reinstall openssh-client")
    return CheckResult("SSH client", OK, f"{version} at {ssh}")


def run_checks(facts: DoctorFacts, engine: EngineLike | None, engine_error: SymposiumError | None,
               settings: Settings, paths: AppPaths, remote: bool) -> list[CheckResult]:
    api, info = check_api(engine, engine_error, facts.host_notes)
    return [
        check_binary(facts, remote_ok=remote and engine is not None),
        api,
        check_runtime(engine, info, settings),
        check_images(engine, settings),
        check_pod(engine, info, settings),
        check_dirs(paths),
        check_ssh(),
    ]


def is_remote(uri: str | None, environ: dict[str, str] | None = None) -> bool:
    environ = dict(os.environ) if environ is None else environ
    uri = uri or environ.get("CONTAINER_HOST", "")
    return bool(uri) and not uri.startswith("unix:")
