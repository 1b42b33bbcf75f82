"""Make a podman service the product starts itself work on hosts like these.

Two measured traps: crun fails on hybrid cgroups ("cgroups in hybrid mode not supported"), and
podman's default ulimits exceed a hard open-files limit that even root cannot raise, so every
container start fails. The fix is a containers.conf of our own, given to the service through
CONTAINERS_CONF; /etc is never edited. CONTAINERS_CONF replaces podman's whole search path, so the
host's own files are read and merged first: the person's settings are kept, ours win.
"""

from __future__ import annotations

import os
import resource
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

PODMAN_DEFAULT_NOFILE = 1048576
# Measured on these hosts: 16384 works for both limits in runs and in image builds, where RUN steps
# failed with nproc set to the full hard limit ("error setting rlimit type 6").
SAFE_ULIMIT = 16384
SYSTEM_CONF_FILES = (
    Path("/usr/share/containers/containers.conf"),
    Path("/etc/containers/containers.conf"),
)
SYSTEM_CONF_DIR = Path("/etc/containers/containers.conf.d")
# podman's defaults for helper_binaries_dir and cni_plugin_dirs (containers.conf(5))
HELPER_DIRS = ("/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman")
CNI_PLUGIN_DIRS = ("/usr/local/libexec/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/usr/lib/cni",
                   "/opt/cni/bin")
NETWORK_BACKENDS = ("netavark", "cni")
DEFAULT_NETWORK_BACKEND = "netavark"
INSTALL_BACKEND = {"netavark": "apt-get install netavark aardvark-dns",
                   "cni": "apt-get install containernetworking-plugins"}
PAUSE_FIX = ("install podman's pause binary: apt-get install catatonit (or name an image that has one "
             "as infra_image in the [engine] table of containers.conf)")


def helper_binary(name: str, dirs: tuple[str, ...] = HELPER_DIRS) -> str | None:
    """Where podman would find a helper binary: its helper dirs first, then PATH."""
    for directory in dirs:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


STORAGE_CONF_FILES = (Path("/etc/containers/storage.conf"), Path("/usr/share/containers/storage.conf"))
DEFAULT_GRAPHROOT = "/var/lib/containers/storage"


def store_backend(environ: dict[str, str] | None = None) -> str | None:
    """The network backend podman recorded for the store the service will use: podman writes it
    to GRAPHROOT/defaultNetworkBackend the first time it networks there, and containers made
    with one backend do not network with the other."""
    environ = dict(os.environ) if environ is None else environ
    files = [Path(environ["CONTAINERS_STORAGE_CONF"])] if environ.get("CONTAINERS_STORAGE_CONF") \
        else [f for f in STORAGE_CONF_FILES if f.is_file()][:1]
    graphroot = DEFAULT_GRAPHROOT
    for path in files:
        try:
            graphroot = str(tomllib.loads(path.read_text(encoding="utf-8")).get("storage", {})
                            .get("graphroot") or graphroot)
        except (OSError, tomllib.TOMLDecodeError, AttributeError):
            pass
    try:
        recorded = (Path(graphroot) / "defaultNetworkBackend").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return recorded if recorded in NETWORK_BACKENDS else None


def choose_backend(configured: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """(backend, why) for the service the product starts: config.yaml's engine.network_backend,
    else the one the store already uses, else netavark. Never what happens to be installed."""
    if configured:
        return configured, "engine.network_backend in config.yaml"
    recorded = store_backend(environ)
    if recorded:
        return recorded, "the one its store already uses"
    return DEFAULT_NETWORK_BACKEND, "the default"


def installed_backends() -> tuple[str, ...]:
    """The network stacks present on this machine (podman needs one; the product works on both)."""
    found = []
    if helper_binary("netavark"):
        found.append("netavark")
    if any((Path(d) / "bridge").is_file() and (Path(d) / "portmap").is_file() for d in CNI_PLUGIN_DIRS):
        found.append("cni")
    return tuple(found)


def cgroup_mode(root: Path = Path("/sys/fs/cgroup")) -> str:
    """'unified' (cgroup v2 only), 'hybrid' (v1 with a v2 mount beside it) or 'legacy' (v1)."""
    try:
        if (root / "cgroup.controllers").exists():
            return "unified"
        if (root / "unified").is_dir():
            return "hybrid"
    except OSError:
        pass
    return "legacy"


@dataclass(frozen=True)
class HostQuirks:
    cgroups: str
    nofile_hard: int
    nproc_hard: int
    systemd_running: bool
    runc_path: str | None
    crun_path: str | None
    backends: tuple[str, ...] = NETWORK_BACKENDS  # network stacks installed here

    @classmethod
    def detect(cls) -> HostQuirks:
        return cls(
            cgroups=cgroup_mode(),
            nofile_hard=resource.getrlimit(resource.RLIMIT_NOFILE)[1],
            nproc_hard=resource.getrlimit(resource.RLIMIT_NPROC)[1],
            systemd_running=Path("/run/systemd/system").is_dir(),
            runc_path=shutil.which("runc"),
            crun_path=shutil.which("crun"),
            backends=installed_backends(),
        )

    @property
    def crun_unusable(self) -> bool:
        return self.cgroups != "unified"


@dataclass(frozen=True)
class ConfFix:
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def _limit(value: int) -> int | None:
    return None if value == resource.RLIM_INFINITY else value


def fixes_for(quirks: HostQuirks, network_backend: str = DEFAULT_NETWORK_BACKEND) -> ConfFix:
    """The containers.conf settings this host needs, why, and what cannot be fixed here. The
    network backend is always named: podman would otherwise pick one by what is installed."""
    containers: dict[str, Any] = {}
    engine: dict[str, Any] = {}
    network: dict[str, Any] = {"network_backend": network_backend}
    reasons: list[str] = [f"network backend {network_backend}"]
    problems: list[str] = []
    if network_backend not in quirks.backends:
        other = [b for b in NETWORK_BACKENDS if b != network_backend]
        problems.append(f"the {network_backend} network backend is not installed "
                        f"({INSTALL_BACKEND[network_backend]}, or set engine.network_backend: {other[0]} "
                        "in config.yaml)")
    if quirks.crun_unusable:
        if quirks.runc_path:
            engine["runtime"] = "runc"
            reasons.append(f"cgroups are in {quirks.cgroups} mode, where crun fails: using runc")
        else:
            problems.append(
                f"cgroups are in {quirks.cgroups} mode, where crun fails, and runc is not installed "
                "(apt-get install runc)"
            )
    ulimits = []
    nofile = _limit(quirks.nofile_hard)
    if nofile is not None and nofile < PODMAN_DEFAULT_NOFILE:
        nofile = min(nofile, SAFE_ULIMIT)
        ulimits.append(f"nofile={nofile}:{nofile}")
        reasons.append(f"the hard open-files limit is {quirks.nofile_hard}: lowering podman's "
                       "default ulimits")
        nproc = min(_limit(quirks.nproc_hard) or SAFE_ULIMIT, SAFE_ULIMIT)
        ulimits.append(f"nproc={nproc}:{nproc}")
    if ulimits:
        containers["default_ulimits"] = ulimits
    if not quirks.systemd_running:
        engine["cgroup_manager"] = "cgroupfs"
        engine["events_logger"] = "file"
        reasons.append("systemd is not running: cgroupfs cgroup manager, file events log")
    overrides = {k: v for k, v in (("containers", containers), ("engine", engine), ("network", network)) if v}
    return ConfFix(overrides=overrides, reasons=tuple(reasons), problems=tuple(problems))


def system_conf_files(environ: dict[str, str] | None = None) -> list[Path]:
    """The containers.conf files podman itself would read, in its order."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get("CONTAINERS_CONF"):
        return [Path(environ["CONTAINERS_CONF"])]
    files = [p for p in SYSTEM_CONF_FILES if p.is_file()]
    if SYSTEM_CONF_DIR.is_dir():
        files += sorted(p for p in SYSTEM_CONF_DIR.glob("*.conf") if p.is_file())
    if os.getuid() != 0:
        home_conf = Path(environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "containers"
        if (home_conf / "containers.conf").is_file():
            files.append(home_conf / "containers.conf")
        files += sorted((home_conf / "containers.conf.d").glob("*.conf"))
    return files


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merged_conf(files: list[Path], overrides: dict[str, dict[str, Any]]) -> str:
    document: dict[str, Any] = {}
    for path in files:
        try:
            document = deep_merge(document, tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError):
            continue  # podman would refuse this file too; our overrides still apply
    return tomli_w.dumps(deep_merge(document, overrides))


def write_conf(path: Path, fix: ConfFix, environ: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Written by symposium-tui for the podman service it starts; /etc is not changed.\n"
    text += merged_conf(system_conf_files(environ), fix.overrides)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
