"""podman's answers, 4.x and 5.x shapes alike, turned into core models.

Whoever runs the engine chooses what it answers, so every field is read by one policy, the
helpers below: numbers are ints (or ASCII decimal strings) within bounds, text is a str of bounded
length, labels a map of such strings, lists are lists of objects. A field that is not is left out
(None, "", 0 or the unknown state); an object missing its id or name is skipped. Nothing here
raises on an answer, whatever its shape; require() turns "no object" into the product's error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from symposium_tui.core import labels as L
from symposium_tui.core.display import one_line
from symposium_tui.core.errors import EngineError
from symposium_tui.core.models import (
    ContainerInfo,
    ContainerState,
    ContainerStats,
    EngineEvent,
    EngineInfo,
    EngineVersion,
    ImageInfo,
    NetworkInfo,
    PathStat,
    PodInfo,
    PortBinding,
    VolumeInfo,
)

Model = TypeVar("Model")
MAX_NAME = 256  # ids and names
MAX_TEXT = 4096  # paths, images, states, statuses
MAX_LABEL_KEY, MAX_LABEL_VALUE = 256, 4096
SIZE = (0, 2**63 - 1)  # bytes, nanoseconds, counts: what a signed 64-bit number holds
PORT = (1, 65535)
EXIT_CODE = (-(2**31), 2**31 - 1)
LAST_EPOCH = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds
NUMERIC_LABELS = (L.MEMORY, L.CPU, L.STORAGE)  # ours, read back as numbers
_DECIMAL = re.compile(r"-?[0-9]{1,19}")  # ASCII digits only; never a 5,000-digit int() to convert


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _float(value: Any, low: float, high: float) -> float | None:
    # compared before float(): exact for ints of any size, and never true for NaN or infinity
    if isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    return None


def _str(value: Any, limit: int = MAX_TEXT) -> str:
    return value if isinstance(value, str) and len(value) <= limit else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    """The objects of a list; anything else (a dict, null, a number) is no list at all."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any, key_limit: int = MAX_LABEL_KEY, value_limit: int = MAX_LABEL_VALUE) -> dict[str, str]:
    """A map of text to text; pairs that are not (or are too long) are left out."""
    return {k: v for k, v in _object(value).items()
            if isinstance(k, str) and 0 < len(k) <= key_limit and isinstance(v, str) and len(v) <= value_limit}


def _labels(value: Any) -> dict[str, str]:
    """Labels, our numeric ones only when they hold a number in bounds (else they are left out)."""
    labels = _strings(value)
    return {k: v for k, v in labels.items() if k not in NUMERIC_LABELS or _int(v, *SIZE) is not None}


def listed(make: Callable[[Any], Model | None], answer: Any) -> list[Model]:
    """The models of a list answer: items that are not objects, or not readable, are skipped."""
    return [model for item in _items(answer) if (model := make(item)) is not None]


def require(model: Model | None, what: str) -> Model:
    if model is None:
        raise EngineError(f"podman's answer to {what} could not be read")
    return model


def parse_time(value: Any) -> datetime | None:
    """podman gives epoch seconds in some places and RFC 3339 with nanoseconds in others."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = _float(value, 1e-9, LAST_EPOCH)  # 0 is podman's "never"
        return datetime.fromtimestamp(seconds, tz=timezone.utc) if seconds is not None else None
    text = _str(value, 64).strip()
    if not text or text.startswith("0001-01-01"):
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


def container_state(attrs: Any) -> ContainerState:
    state = _object(attrs).get("State")
    if isinstance(state, dict):
        state = state.get("Status")
    return ContainerState.parse(_str(state, 64))


def _binding(container_port: Any, host_ip: Any, host_port: Any, protocol: Any, count: int = 1) -> list[PortBinding]:
    inside, outside = _int(container_port, *PORT), _int(host_port or 0, 0, PORT[1])  # 0: not published
    if inside is None or outside is None or inside + count - 1 > PORT[1] or outside + count - 1 > PORT[1]:
        return []
    return [PortBinding(inside + i, _str(host_ip, 64) or "0.0.0.0", outside + i if outside else 0,
                        _str(protocol, 16) or "tcp") for i in range(count)]


def _ports(raw: Any) -> tuple[PortBinding, ...]:
    bindings = []
    for port in _items(raw):
        if "container_port" in port:  # libpod list shape
            count = _int(port.get("range") or 1, *PORT) or 1
            bindings += _binding(port["container_port"], port.get("host_ip"), port.get("host_port"),
                                 port.get("protocol"), count)
        elif "PrivatePort" in port:  # compat shape
            bindings += _binding(port["PrivatePort"], port.get("IP"), port.get("PublicPort"), port.get("Type"))
    return tuple(bindings)


def container_from_list(attrs: Any) -> ContainerInfo | None:
    attrs = _object(attrs)
    names = attrs.get("Names")
    name = _str(names[0] if isinstance(names, list) and names else attrs.get("Name"), MAX_NAME).lstrip("/")
    if not _str(attrs.get("Id"), MAX_NAME) or not name:
        return None
    return ContainerInfo(
        id=attrs["Id"], name=name, image=_str(attrs.get("Image")), state=container_state(attrs),
        labels=_labels(attrs.get("Labels")), pod_id=_str(attrs.get("Pod"), MAX_NAME),
        pod_name=_str(attrs.get("PodName"), MAX_NAME), is_infra=attrs.get("IsInfra") is True,
        exit_code=_int(attrs.get("ExitCode"), *EXIT_CODE), created=parse_time(attrs.get("Created")),
        started=parse_time(attrs.get("StartedAt")), ports=_ports(attrs.get("Ports")),
        finished=parse_time(attrs.get("ExitedAt")),
    )


def _members(containers: Any) -> list[tuple[str, str]]:
    """(id, status) of a pod's containers that have an id."""
    return [(c["Id"], _str(c.get("Status"), 64)) for c in _items(containers) if _str(c.get("Id"), MAX_NAME)]


def _pod(attrs: Any, status_field: str) -> PodInfo | None:
    attrs = _object(attrs)
    if not _str(attrs.get("Id"), MAX_NAME) or not _str(attrs.get("Name"), MAX_NAME):
        return None
    members = _members(attrs.get("Containers"))
    return PodInfo(
        id=attrs["Id"], name=attrs["Name"], status=_str(attrs.get(status_field), 64).lower(),
        labels=_labels(attrs.get("Labels")), created=parse_time(attrs.get("Created")),
        container_ids=tuple(i for i, _ in members),
        member_states=tuple(members) if status_field == "Status" else (),
    )


def pod_from_list(attrs: Any) -> PodInfo | None:
    return _pod(attrs, "Status")


def pod_from_inspect(attrs: Any) -> PodInfo | None:
    return _pod(attrs, "State")


def label_filters(selector: dict[str, str] | None) -> list[str] | None:
    """Label selectors as podman's `label=k=v` filters (several are ANDed)."""
    if not selector:
        return None
    return [f"label={k}={v}" for k, v in selector.items()]


def volume_from(attrs: Any) -> VolumeInfo | None:
    attrs = _object(attrs)
    name = _str(attrs.get("Name"), MAX_NAME)
    if not name:
        return None
    return VolumeInfo(name=name, mountpoint=_str(attrs.get("Mountpoint")), labels=_labels(attrs.get("Labels")),
                      created=parse_time(attrs.get("CreatedAt")), options=_strings(attrs.get("Options")))


def network_from(attrs: Any) -> NetworkInfo | None:
    attrs = _object(attrs)
    name = _str(attrs.get("name"), MAX_NAME)
    if not name:
        return None
    subnets = tuple(s for s in (_str(item.get("subnet"), 64) for item in _items(attrs.get("subnets"))) if s)
    return NetworkInfo(name=name, interface=_str(attrs.get("network_interface"), 64), subnets=subnets,
                       labels=_labels(attrs.get("labels")), internal=attrs.get("internal") is True)


def container_from_inspect(attrs: Any) -> ContainerInfo | None:
    attrs = _object(attrs)
    state, config = _object(attrs.get("State")), _object(attrs.get("Config"))
    name = _str(attrs.get("Name"), MAX_NAME).lstrip("/")
    if not _str(attrs.get("Id"), MAX_NAME) or not name:
        return None
    host_config = _object(attrs.get("HostConfig"))
    return ContainerInfo(
        id=attrs["Id"], name=name, image=_str(attrs.get("ImageName")) or _str(config.get("Image")),
        state=container_state(attrs), labels=_labels(config.get("Labels")), pod_id=_str(attrs.get("Pod"), MAX_NAME),
        is_infra=attrs.get("IsInfra") is True, exit_code=_int(state.get("ExitCode"), *EXIT_CODE),
        created=parse_time(attrs.get("Created")), started=parse_time(state.get("StartedAt")),
        finished=parse_time(state.get("FinishedAt")),
        created_cpu_millis=cpu_millis(host_config.get("CpuQuota"), host_config.get("CpuPeriod")),
    )


def cpu_millis(quota: Any, period: Any) -> int | None:
    """Millicores from a CFS quota and period (µs); None when there is no quota."""
    quota, period = _int(quota, 1, SIZE[1]), _int(period or 100000, 1, SIZE[1])
    return quota * 1000 // period if quota is not None and period is not None else None


def pod_cpu_millis(pod: Any) -> int | None:
    """The CPU limit a pod was created with, from its inspect answer."""
    infra = _object(_object(pod).get("InfraConfig"))
    return cpu_millis(infra.get("cpu_quota"), infra.get("cpu_period"))


def port_bindings(pod: Any) -> dict[int, int]:
    """Container port -> host port, from a pod's inspect answer."""
    ports: dict[int, int] = {}
    for key, bindings in _object(_object(_object(pod).get("InfraConfig")).get("PortBindings")).items():
        port = _int(key.split("/")[0], *PORT) if isinstance(key, str) else None
        for binding in _items(bindings):
            if port is not None and (host := _int(binding.get("HostPort"), *PORT)) is not None:
                ports[port] = host
    return ports


def pod_cgroup_path(pod: Any) -> str:
    return _str(_object(pod).get("CgroupPath"))


def infra_container_id(pod: Any) -> str:
    return _str(_object(pod).get("InfraContainerID"), MAX_NAME)


def container_pid(container: Any) -> int | None:
    """The process id of a running container, from its inspect answer."""
    return _int(_object(_object(container).get("State")).get("Pid"), 1, 2**31 - 1)


def volume_sizes_from(report: Any) -> dict[str, int]:
    """Bytes per volume, from podman's disk-usage report."""
    return {name: _int(v.get("Size"), *SIZE) or 0 for v in _items(_object(report).get("Volumes"))
            if (name := _str(v.get("VolumeName"), MAX_NAME))}


def filters_dict(filters: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for item in filters:
        key, _, value = item.partition("=")
        grouped.setdefault(key, []).append(value)
    return grouped


def filter_params(selector: dict[str, str] | None) -> dict[str, str]:
    """Query parameters selecting objects by labels (JSON-encoded, so lists survive)."""
    filters = label_filters(selector)
    return {"filters": json.dumps(filters_dict(filters))} if filters else {}


def matching(items: list[Any], selector: dict[str, str] | None) -> list[Any]:
    """Keep the items whose labels carry every pair of the selector.

    podman 4.3 ANDs several label filters for containers and pods but ORs them for volumes; the
    server-side filter narrows the answer, this makes the meaning the same everywhere.
    """
    if not selector:
        return items
    return [i for i in items if all(i.labels.get(k) == v for k, v in selector.items())]


def stats_from(raw: Any) -> ContainerStats | None:
    raw = _object(raw)
    if not _str(raw.get("ContainerID"), MAX_NAME):
        return None

    def number(key: str) -> int:
        return _int(raw.get(key), *SIZE) or 0
    return ContainerStats(
        id=raw["ContainerID"], name=_str(raw.get("Name"), MAX_NAME), cpu_nano=number("CPUNano"),
        system_nano=number("SystemNano"), mem_usage=number("MemUsage"), mem_limit=number("MemLimit"),
        net_in=number("NetInput"), net_out=number("NetOutput"), pids=number("PIDs"),
        avg_cpu=_float(raw.get("AvgCPU") or raw.get("CPU"), 0.0, 1e9) or 0.0,
    )


def upper_dir_of(inspected: Any) -> str:
    """A container's writable layer on the engine's host (overlay's UpperDir), "" when none."""
    upper = _str(_object(_object(_object(inspected).get("GraphDriver")).get("Data")).get("UpperDir"))
    return upper if upper.startswith("/") and "\0" not in upper and "/../" not in upper + "/" else ""


def written_sizes(answer: Any) -> dict[str, tuple[dict[str, str], int]]:
    """(labels, bytes written to its own root file system) of each listed container: libpod's
    Size.rwSize, or the compat SizeRw."""
    found = {}
    for attrs in _items(answer):
        names = attrs.get("Names")
        name = _str(names[0] if isinstance(names, list) and names else attrs.get("Name"), MAX_NAME).lstrip("/")
        size = _int(_object(attrs.get("Size")).get("rwSize"), *SIZE)
        size = size if size is not None else _int(attrs.get("SizeRw"), *SIZE)
        if name and size is not None:
            found[name] = (_labels(attrs.get("Labels")), size)
    return found


def stats_list(answer: Any) -> list[ContainerStats]:
    return listed(stats_from, _object(answer).get("Stats"))


def event_from(raw: Any) -> EngineEvent | None:
    """A container event of ours, or None for anything else (infra containers included)."""
    raw = _object(raw)
    if raw.get("Type") != "container":
        return None
    actor = _object(raw.get("Actor"))
    attributes = _strings(actor.get("Attributes"))
    if attributes.get(L.OWNER) != L.OWNER_VALUE or attributes.get(L.ROLE) not in ("agent", "dev"):
        return None
    when: float | None = _int(raw.get("timeNano"), *SIZE) or _int(raw.get("time"), *SIZE)
    if when is not None and when > 10**12:
        when = when / 1e9
    return EngineEvent(
        action=_str(raw.get("Action"), 64) or _str(raw.get("status"), 64),
        container_id=_str(actor.get("ID"), MAX_NAME) or _str(raw.get("id"), MAX_NAME),
        container_name=_str(attributes.get("name"), MAX_NAME),
        taskspace=L.taskspace_of(attributes) or "",
        role=attributes[L.ROLE],
        time=parse_time(when),
        exit_code=_int(attributes.get("containerExitCode"), *EXIT_CODE),
    )


def image_from(attrs: Any) -> ImageInfo | None:
    attrs = _object(attrs)
    if not _str(attrs.get("Id"), MAX_NAME):
        return None
    names = attrs.get("RepoTags") or attrs.get("NamesHistory")
    return ImageInfo(
        id=attrs["Id"], names=tuple(n for n in names if _str(n)) if isinstance(names, list) else (),
        size=_int(attrs.get("Size"), *SIZE) or 0, created=parse_time(attrs.get("Created")),
        labels=_labels(attrs.get("Labels") or _object(attrs.get("Config")).get("Labels")),
    )


def version_from(data: Any) -> EngineVersion:
    data = _object(data)
    return EngineVersion(version=_str(data.get("Version"), 64), api_version=_str(data.get("ApiVersion"), 64),
                         os=_str(data.get("Os"), 64), arch=_str(data.get("Arch"), 64))


def engine_info_from(data: Any, version: EngineVersion) -> EngineInfo:
    data = _object(data)
    host, store = _object(data.get("host")), _object(data.get("store"))
    return EngineInfo(
        version=version,
        oci_runtime=_str(_object(host.get("ociRuntime")).get("name"), 256),
        cgroup_manager=_str(host.get("cgroupManager"), 64),
        cgroup_version=_str(host.get("cgroupVersion"), 64),
        graph_root=_str(store.get("graphRoot")),
        volume_path=_str(store.get("volumePath")),
        rootless=_object(host.get("security")).get("rootless") is True,
        network_backend=_str(host.get("networkBackend"), 64),
        cpus=_int(host.get("cpus"), 0, 2**20) or 0,
        memory=_int(host.get("memTotal"), *SIZE) or 0,
        backing_fs=_str(_object(store.get("graphStatus")).get("Backing Filesystem"), 256),
    )


MAX_MESSAGE = 300


def readable(text: str) -> str:
    """One line a person can read from what the engine said: the message out of a JSON body
    (podman's {"cause", "message", "response"}, a report's "Errs"), whitespace folded, control
    characters escaped, cut at MAX_MESSAGE characters."""
    message = text.strip()
    try:
        body = json.loads(message)
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        errors = body.get("Errs") or body.get("errs")
        if isinstance(errors, list) and errors:
            message = "; ".join(str(e.get("Err") or e.get("message") or e) if isinstance(e, dict) else str(e)
                                for e in errors)
        else:
            message = str(body.get("message") or body.get("cause") or message)
    return one_line(message, MAX_MESSAGE)


GO_MODE_DIR = 1 << 31  # Go's os.FileMode bits, as the archive endpoint's stat header has them
GO_MODE_LINK = 1 << 27


def path_stat_from(header: Any) -> PathStat | None:
    """The archive endpoint's X-Docker-Container-Path-Stat header (base64 JSON); None when it is
    not that shape."""
    import base64

    try:
        data = _object(json.loads(base64.b64decode(str(header or ""), validate=False)))
    except (ValueError, TypeError):
        return None
    name, target = _str(data.get("name")), _str(data.get("linkTarget"))
    mode = _int(data.get("mode"), 0, 1 << 40)
    if not name or mode is None:
        return None
    return PathStat(name, _int(data.get("size"), 0, SIZE[1]) or 0, data.get("isDir") is True,
                    bool(mode & GO_MODE_LINK), target)


def tmpfs_of(attrs: Any) -> list[str]:
    """Where a container has a tmpfs (emptied at each start), from its inspect answer."""
    attrs = _object(attrs)
    found = [path for path in _object(_object(attrs.get("HostConfig")).get("Tmpfs")) if isinstance(path, str)]
    found += [_str(m.get("Destination")) for m in _items(attrs.get("Mounts")) if m.get("Type") == "tmpfs"]
    return sorted({p for p in found if p.startswith("/")})


def volume_mounts_of(attrs: Any) -> list[tuple[str, str]]:
    """(name, destination) of a container's named volumes, from its inspect answer."""
    found = []
    for mount in _items(_object(attrs).get("Mounts")):
        name, destination = _str(mount.get("Name"), MAX_NAME), _str(mount.get("Destination"))
        if mount.get("Type") == "volume" and name and destination.startswith("/"):
            found.append((name, destination))
    return found
