"""podman's answers, 4.x and 5.x shapes alike, turned into core models."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from symposium_tui.core import labels as L
from symposium_tui.core.models import (
    ContainerInfo,
    ContainerState,
    ContainerStats,
    EngineEvent,
    PodInfo,
    PortBinding,
    VolumeInfo,
)


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
        finished=parse_time(attrs.get("ExitedAt")),
    )


def pod_from_list(attrs: dict[str, Any]) -> PodInfo:
    return PodInfo(
        id=attrs["Id"],
        name=attrs.get("Name", ""),
        status=(attrs.get("Status") or "").lower(),
        labels=dict(attrs.get("Labels") or {}),
        created=parse_time(attrs.get("Created")),
        container_ids=tuple(c["Id"] for c in attrs.get("Containers") or []),
        member_states=tuple((c["Id"], str(c.get("Status") or "")) for c in attrs.get("Containers") or []),
    )


def label_filters(selector: dict[str, str] | None) -> list[str] | None:
    """Label selectors as podman's `label=k=v` filters (several are ANDed)."""
    if not selector:
        return None
    return [f"label={k}={v}" for k, v in selector.items()]


def volume_from(attrs: dict[str, Any]) -> VolumeInfo:
    return VolumeInfo(
        name=attrs["Name"],
        mountpoint=attrs.get("Mountpoint", ""),
        labels=dict(attrs.get("Labels") or {}),
        created=parse_time(attrs.get("CreatedAt")),
        options=dict(attrs.get("Options") or {}),
    )


def pod_from_inspect(attrs: dict[str, Any]) -> PodInfo:
    return PodInfo(
        id=attrs["Id"],
        name=attrs.get("Name", ""),
        status=(attrs.get("State") or "").lower(),
        labels=dict(attrs.get("Labels") or {}),
        created=parse_time(attrs.get("Created")),
        container_ids=tuple(c["Id"] for c in attrs.get("Containers") or []),
    )


def container_from_inspect(attrs: dict[str, Any]) -> ContainerInfo:
    state = attrs.get("State") or {}
    config = attrs.get("Config") or {}
    return ContainerInfo(
        id=attrs["Id"],
        name=attrs.get("Name", "").lstrip("/"),
        image=attrs.get("ImageName") or config.get("Image", ""),
        state=container_state(attrs),
        labels=dict(config.get("Labels") or {}),
        pod_id=attrs.get("Pod") or "",
        is_infra=bool(attrs.get("IsInfra")),
        exit_code=state.get("ExitCode"),
        created=parse_time(attrs.get("Created")),
        started=parse_time(state.get("StartedAt")),
        finished=parse_time(state.get("FinishedAt")),
        created_cpu_millis=_created_cpu(attrs.get("HostConfig") or {}),
    )


def _created_cpu(host_config: dict[str, Any]) -> int | None:
    quota, period = host_config.get("CpuQuota"), host_config.get("CpuPeriod") or 100000
    if not isinstance(quota, int) or isinstance(quota, bool) or quota <= 0 or not isinstance(period, int) \
            or period <= 0:
        return None
    return quota * 1000 // period


def port_bindings(infra_config: dict[str, Any]) -> dict[int, int]:
    ports: dict[int, int] = {}
    for key, bindings in (infra_config.get("PortBindings") or {}).items():
        port = int(key.split("/")[0])
        for binding in bindings or []:
            if binding.get("HostPort"):
                ports[port] = int(binding["HostPort"])
    return ports


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


def stats_from(raw: dict[str, Any]) -> ContainerStats:
    return ContainerStats(
        id=raw.get("ContainerID", ""), name=raw.get("Name", ""),
        cpu_nano=int(raw.get("CPUNano") or 0), system_nano=int(raw.get("SystemNano") or 0),
        mem_usage=int(raw.get("MemUsage") or 0), mem_limit=int(raw.get("MemLimit") or 0),
        net_in=int(raw.get("NetInput") or 0), net_out=int(raw.get("NetOutput") or 0),
        pids=int(raw.get("PIDs") or 0), avg_cpu=float(raw.get("AvgCPU") or raw.get("CPU") or 0.0),
    )


def event_from(raw: dict[str, Any]) -> EngineEvent | None:
    """A container event of ours, or None for anything else (infra containers included)."""
    if raw.get("Type") != "container":
        return None
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    if attributes.get(L.OWNER) != L.OWNER_VALUE or attributes.get(L.ROLE) not in ("agent", "dev"):
        return None
    code = attributes.get("containerExitCode")
    when = raw.get("timeNano") or raw.get("time")
    if isinstance(when, int) and when > 10**12:
        when = when / 1e9
    return EngineEvent(
        action=str(raw.get("Action") or raw.get("status") or ""),
        container_id=str(actor.get("ID") or raw.get("id") or ""),
        container_name=str(attributes.get("name") or ""),
        taskspace=L.taskspace_of(attributes) or "",
        role=str(attributes.get(L.ROLE)),
        time=parse_time(when),
        exit_code=int(code) if code not in (None, "") else None,
    )


MAX_MESSAGE = 300


def readable(text: str) -> str:
    """One line a person can read from what the engine said: the message out of a JSON body
    (podman's {"cause", "message", "response"}, a report's "Errs"), whitespace folded, control
    characters dropped, cut at MAX_MESSAGE characters."""
    message = text.strip()
    try:
        body = json.loads(message)
    except ValueError:
        body = None
    if isinstance(body, dict):
        errors = body.get("Errs") or body.get("errs")
        if isinstance(errors, list) and errors:
            message = "; ".join(str(e.get("Err") or e.get("message") or e) if isinstance(e, dict) else str(e)
                                for e in errors)
        else:
            message = str(body.get("message") or body.get("cause") or message)
    message = " ".join("".join(c if c.isprintable() else " " for c in message).split())
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"
