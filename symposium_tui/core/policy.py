"""Resource tiers. Until resource-policies.yaml lands, the seed's tiers are built in."""

from __future__ import annotations

from dataclasses import dataclass

from symposium_tui.core.errors import UsageError
from symposium_tui.core.units import format_cpu, format_size, parse_cpu, parse_size


@dataclass(frozen=True)
class Limits:
    memory: int  # bytes
    cpu: int  # millicores
    storage: int  # bytes

    def describe(self) -> str:
        return f"memory {format_size(self.memory)}, cpu {format_cpu(self.cpu)}, storage {format_size(self.storage)}"


@dataclass(frozen=True)
class Tier:
    name: str
    limits: Limits


def _tier(name: str, memory: str, cpu: str, storage: str) -> Tier:
    return Tier(name, Limits(parse_size(memory), parse_cpu(cpu), parse_size(storage)))


BUILTIN_TIERS = {
    t.name: t for t in (
        _tier("default", "4Gi", "2000m", "10Gi"),
        _tier("premium", "8Gi", "4000m", "50Gi"),
        _tier("minimal", "1Gi", "500m", "2Gi"),
    )
}
DEFAULT_TIER = "default"


@dataclass(frozen=True)
class Policy:
    tiers: dict[str, Tier]
    project_overrides: dict[str, Limits]

    def resolve(self, tier: str | None, project: str) -> tuple[str, Limits]:
        name = tier or DEFAULT_TIER
        if name not in self.tiers:
            raise UsageError(f"unknown tier {name!r}; known tiers: {', '.join(sorted(self.tiers))}")
        if project in self.project_overrides:
            return name, self.project_overrides[project]
        return name, self.tiers[name].limits


def builtin_policy() -> Policy:
    return Policy(dict(BUILTIN_TIERS), {"large-monorepo": Limits(parse_size("16Gi"), parse_cpu("8000m"),
                                                                  parse_size("100Gi"))})
