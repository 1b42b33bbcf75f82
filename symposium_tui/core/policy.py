"""Resource tiers from `resource-policies.yaml` (the seed's schema), validated as a whole.

An invalid file never half-applies: loading either returns a complete Policy or raises a
ConfigError naming the file, line and key, and what was expected there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from symposium_tui.core.errors import ConfigError, UsageError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.units import (
    format_cpu,
    format_size,
    parse_cpu,
    parse_size,
    quoted,
)
from symposium_tui.core.yamldoc import YamlDoc

LIMIT_KEYS = ("memory", "cpu", "storage")
DEFAULT_TIER = "default"
SEED_POLICY = """\
# Resource tiers for taskspaces (symposium-tui). Units: memory and storage in Ki/Mi/Gi/Ti
# (binary) or K/M/G/T (decimal); cpu in millicores ("500m") or cores ("1.5").
taskspace_limits:
  default:
    memory: "4Gi"
    cpu: "2000m"
    storage: "10Gi"

  premium:
    memory: "8Gi"
    cpu: "4000m"
    storage: "50Gi"

  minimal:
    memory: "1Gi"
    cpu: "500m"
    storage: "2Gi"

# Per-project overrides (by project name: the repository's last path part). An override may set
# any of memory, cpu, storage, and may name a `tier` to start from.
project_overrides:
  "large-monorepo":
    memory: "16Gi"
    cpu: "8000m"
    storage: "100Gi"
"""


@dataclass(frozen=True)
class Limits:
    memory: int  # bytes
    cpu: int  # millicores
    storage: int  # bytes

    def describe(self) -> str:
        return (f"memory {format_size(self.memory)}, cpu {format_cpu(self.cpu)}, "
                f"storage {format_size(self.storage)}")

    def as_dict(self) -> dict[str, int]:
        return {"memory": self.memory, "cpu": self.cpu, "storage": self.storage}


@dataclass(frozen=True)
class Tier:
    name: str
    limits: Limits


@dataclass(frozen=True)
class Override:
    tier: str | None
    values: dict[str, int]  # only what the override sets


@dataclass(frozen=True)
class Policy:
    tiers: dict[str, Tier]
    project_overrides: dict[str, Override]
    default_tier: str = DEFAULT_TIER
    source: str = "built in"

    def tier_limits(self, tier: str | None) -> tuple[str, Limits]:
        name = tier or self.default_tier
        if name not in self.tiers:
            raise UsageError(f"unknown tier {name!r}; known tiers: {', '.join(sorted(self.tiers))} "
                             f"(from {self.source})")
        return name, self.tiers[name].limits

    def resolve(self, tier: str | None, project: str) -> tuple[str, Limits]:
        """The tier's limits, with the project's override winning where it sets a value."""
        override = self.project_overrides.get(project)
        if override is None:
            return self.tier_limits(tier)
        name, limits = self.tier_limits(tier if tier else override.tier)
        return name, replace(limits, **override.values)


def builtin_policy() -> Policy:
    return parse_policy(SEED_POLICY, "built-in policy")


def _limit(doc: YamlDoc, keys: list[str], key: str, value: Any) -> int:
    try:
        if key == "cpu":
            return parse_cpu(value, key)
        return parse_size(value, key)
    except UsageError as exc:
        what = ("CPUs such as 1.5 or millicores such as 1500m (more than 0)" if key == "cpu"
                else "a size such as 512Mi, 4Gi or 10G")
        why = exc.message.rsplit(": ", 1)[-1]  # the parser's reason, after the value it quotes
        why = "" if why.startswith("expected") else f" ({why})"
        raise doc.fail(keys, f"{what}, not {quoted(value)}{why}") from None


def _mapping(doc: YamlDoc, keys: list[str], value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise doc.fail(keys, what)
    return value


def parse_policy(text: str, source: str) -> Policy:
    doc = YamlDoc(text, source, "; check the indentation")
    data = doc.data
    if data is None:
        raise ConfigError(f"{source}: the file is empty; expected taskspace_limits")
    data = _mapping(doc, [], data, "a mapping with taskspace_limits and project_overrides")
    for key in data:
        if key not in ("taskspace_limits", "project_overrides", "default_tier"):
            raise doc.fail([str(key)], "one of taskspace_limits, project_overrides, default_tier "
                                       "(unknown key; check the indentation)")
    if "taskspace_limits" not in data:
        raise ConfigError(f"{source}: taskspace_limits is missing")
    raw_tiers = _mapping(doc, ["taskspace_limits"], data["taskspace_limits"], "a mapping of tier names")
    if not raw_tiers:
        raise doc.fail(["taskspace_limits"], "at least one tier")
    tiers: dict[str, Tier] = {}
    for name, spec in raw_tiers.items():
        keys = ["taskspace_limits", str(name)]
        if not str(name).strip() or not str(name).isprintable():
            # it ends up in labels, `ls` and --tier: no control characters, not blank
            raise doc.fail(keys, "a tier name of printable characters (such as premium)")
        spec = _mapping(doc, keys, spec, "a mapping with memory, cpu and storage")
        for key in spec:
            if key not in LIMIT_KEYS:
                raise doc.fail([*keys, str(key)], "one of memory, cpu, storage (unknown key)")
        missing = [k for k in LIMIT_KEYS if k not in spec]
        if missing:
            raise doc.fail(keys, f"memory, cpu and storage ({', '.join(missing)} missing)")
        values = {k: _limit(doc, [*keys, k], k, spec[k]) for k in LIMIT_KEYS}
        tiers[str(name)] = Tier(str(name), Limits(**values))
    default_tier = data.get("default_tier", DEFAULT_TIER if DEFAULT_TIER in tiers else next(iter(tiers)))
    if not isinstance(default_tier, str) or default_tier not in tiers:
        raise doc.fail(["default_tier"], f"one of the tiers ({', '.join(tiers)}), not {quoted(default_tier)}")
    overrides: dict[str, Override] = {}
    raw_overrides = data.get("project_overrides") or {}
    raw_overrides = _mapping(doc, ["project_overrides"], raw_overrides, "a mapping of project names")
    for project, spec in raw_overrides.items():
        keys = ["project_overrides", str(project)]
        spec = _mapping(doc, keys, spec, "a mapping with memory, cpu, storage or tier")
        tier = spec.get("tier")
        if tier is not None and (not isinstance(tier, str) or tier not in tiers):
            raise doc.fail([*keys, "tier"], f"one of the tiers ({', '.join(tiers)}), not {quoted(tier)}")
        for key in spec:
            if key not in (*LIMIT_KEYS, "tier"):
                raise doc.fail([*keys, str(key)], "one of memory, cpu, storage, tier (unknown key)")
        values = {k: _limit(doc, [*keys, k], k, spec[k]) for k in LIMIT_KEYS if k in spec}
        overrides[str(project)] = Override(tier, values)
    return Policy(tiers, overrides, default_tier, source)


def load_policy(path: Path, notices: list[str] | None = None) -> Policy:
    """The policy file, written with the seed's tiers on first use.

    A file that is not text any more (bytes that are not UTF-8, NUL or other control characters:
    a damaged disk, a stray binary write) is moved aside and the seed policy written in its place,
    with a notice. Readable text with a mistake in it is the person's edit: that is an error
    naming the line, and the file is left as it is."""
    if not path.exists():
        atomic_write(path, SEED_POLICY, mode=0o644)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
        if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
            raise ValueError("control characters")
    except ValueError:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        try:
            os.replace(path, aside)
        except OSError as exc:
            raise ConfigError(f"{path} is corrupt (not text) and cannot be moved aside: "
                              f"{exc.strerror or exc}") from exc
        atomic_write(path, SEED_POLICY, mode=0o644)
        if notices is not None:
            notices.append(f"the resource policy {path} was corrupt (not text): moved aside to "
                           f"{aside.name}; the default tiers are back in its place")
        text = SEED_POLICY
    return parse_policy(text, str(path))
