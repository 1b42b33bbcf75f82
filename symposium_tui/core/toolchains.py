"""The project's toolchains: which a repository needs (from the files at its root), the Debian
packages that bring each, and where each tool keeps its build cache.

A repository can need several (a Rust crate with Python bindings): its environment is the set,
written as a key like `python+rust`; `none` is the plain environment. Every tool is pointed at a
folder of /workspace/.build-cache, which lives on the project disk (it shares its limit) and
survives restarts, in both containers (the agent builds and tests too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from symposium_tui.core.errors import UsageError

CACHE = "/workspace/.build-cache"
# What brings each toolchain, from Debian's archive (no registry needed).
PACKAGES: dict[str, tuple[str, ...]] = {
    "rust": ("rustc", "cargo", "gcc", "libc6-dev"),
    "node": ("nodejs", "npm"),
    "python": ("python3", "python3-venv", "python3-pip", "python3-setuptools"),
    "go": ("golang-go", "gcc", "libc6-dev"),
}
TYPES = tuple(PACKAGES)
CHOICES = (*TYPES, "none")
# A file at the repository's root that says a toolchain is needed.
MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Cargo\.toml\Z"), "rust"),
    (re.compile(r"package\.json\Z"), "node"),
    (re.compile(r"(pyproject\.toml|setup\.py|setup\.cfg|requirements.*\.txt)\Z"), "python"),
    (re.compile(r"go\.mod\Z"), "go"),
)
# Each tool's cache, under CACHE; the environment both containers (and SSH sessions) get.
CACHE_DIRS = ("target", "cargo", "npm", "node_modules", "pip", "pycache", "go-build", "go-mod")
BUILD_ENV: dict[str, str] = {
    "CARGO_TARGET_DIR": f"{CACHE}/target",
    "CARGO_HOME": f"{CACHE}/cargo",
    "npm_config_cache": f"{CACHE}/npm",
    "PIP_CACHE_DIR": f"{CACHE}/pip",
    "PYTHONPYCACHEPREFIX": f"{CACHE}/pycache",
    "GOCACHE": f"{CACHE}/go-build",
    "GOMODCACHE": f"{CACHE}/go-mod",
    "GOFLAGS": "-modcacherw",
}


def detect(names: Iterable[str]) -> tuple[str, ...]:
    """The toolchains the names at a repository's root call for, in TYPES order."""
    found = {kind for name in names for pattern, kind in MARKERS if pattern.match(name)}
    return tuple(t for t in TYPES if t in found)


def key_of(types: Iterable[str]) -> str:
    """`python+rust` for a set of toolchains; `none` for none."""
    chosen = sorted(set(types) - {"none"})
    return "+".join(chosen) or "none"


def types_of(key: str) -> tuple[str, ...]:
    """The toolchains of a key (an unknown name in it is dropped: a label is text from an engine)."""
    return tuple(t for t in TYPES if t in key.split("+"))


def parse_choice(text: str) -> tuple[str, ...]:
    """--project-type: one of CHOICES, or several joined with `+` or `,` (rust+python)."""
    words = [w.strip() for w in re.split(r"[+,]", text) if w.strip()]
    unknown = [w for w in words if w not in CHOICES]
    if not words or unknown:
        raise ValueError(", ".join(unknown) or "nothing")
    return tuple(t for t in TYPES if t in words)


def choice_of(text: str, what: str = "--project-type") -> tuple[str, ...]:
    """parse_choice, a value that is none of them a usage error naming what was given."""
    from symposium_tui.core.units import quoted

    try:
        return parse_choice(text)
    except ValueError:
        raise UsageError(f"{what} {quoted(text)}: choose from {', '.join(CHOICES)}, or several joined by + "
                         "(rust+python)") from None


def packages_for(types: Iterable[str]) -> tuple[str, ...]:
    wanted: list[str] = []
    for kind in TYPES:
        if kind in set(types):
            wanted += [p for p in PACKAGES[kind] if p not in wanted]
    return tuple(wanted)
