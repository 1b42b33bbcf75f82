"""The product's own settings (`config.yaml` in the config dir), with environment overrides.

Only what is set is overridden; everything else keeps its built-in default. An invalid file is an
error naming the file, line and key, never a silent fallback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from symposium_tui.core.agent import RESTART_RULES, AgentSpec, command_problem, env_problem
from symposium_tui.core.errors import ConfigError, UsageError
from symposium_tui.core.hosts import LOCAL, HostSpec, valid_host_name
from symposium_tui.core.idle import MIN_AFTER, AutoStop
from symposium_tui.core.security import ALLOW_FORMAT, LEVELS, AllowRule, parse_allow
from symposium_tui.core.units import MAX_DURATION_DAYS, parse_duration
from symposium_tui.core.yamldoc import YamlDoc

DEFAULT_AGENT_IMAGE = "localhost/symposium/agent:latest"
DEFAULT_DEV_IMAGE = "localhost/symposium/dev:latest"
DEFAULT_BASE_IMAGE = "localhost/symposium/base:bookworm"

IMAGE_ENV = {
    "agent": "SYMPOSIUM_AGENT_IMAGE",
    "dev": "SYMPOSIUM_DEV_IMAGE",
    "base": "SYMPOSIUM_BASE_IMAGE",
}


@dataclass(frozen=True)
class ImageNames:
    agent: str = DEFAULT_AGENT_IMAGE
    dev: str = DEFAULT_DEV_IMAGE
    base: str = DEFAULT_BASE_IMAGE
    toolchains: tuple[tuple[str, str, str], ...] = ()  # (key, agent, dev) named in config.yaml
    definition: str = ""  # a repository's Containerfile at this path, not the usual places

    def by_role(self) -> dict[str, str]:
        return {"agent": self.agent, "dev": self.dev}

    def for_key(self, key: str) -> tuple[str, str]:
        """(agent, dev) of an environment: `none` the default ones; a toolchain set (rust,
        python+rust) config.yaml's names for it, else localhost/symposium/{agent,dev}-KEY."""
        if key == "none":
            return self.agent, self.dev
        named = {k: (agent, dev) for k, agent, dev in self.toolchains}
        name = key.replace("+", "-")  # an image name has no +
        return named.get(key, (f"localhost/symposium/agent-{name}:latest", f"localhost/symposium/dev-{name}:latest"))


@dataclass(frozen=True)
class Settings:
    images: ImageNames = ImageNames()
    debian_suite: str = "bookworm"
    state_retention_days: float = 30.0  # agent state outlives its taskspace this long
    security_default: str = "open"  # the level of `create` without --security
    restricted_allow: tuple[AllowRule, ...] = ()  # where restricted taskspaces may connect
    hosts: tuple[HostSpec, ...] = ()  # engine hosts beside podman's own connections
    network_backend: str = ""  # of the podman service the product starts ("": the store's, else netavark)
    git_name: str = ""  # the identity commits in a taskspace get ("": the person's own git config)
    git_email: str = ""
    agent: AgentSpec = AgentSpec()  # what each taskspace's agent runs (create --agent-command overrides)
    auto_stop: AutoStop = AutoStop()  # stop when idle (none: never)


def _validate_image_name(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())
            and all(c.isprintable() and not c.isspace() for c in value))


def load_settings(config_file: Path, environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ) if environ is None else environ
    settings = Settings()
    if config_file.exists():
        settings = _parse_file(config_file, settings)
    overrides = {role: environ[var] for role, var in IMAGE_ENV.items() if environ.get(var)}
    for role, value in overrides.items():
        if not _validate_image_name(value):
            raise ConfigError(f"{IMAGE_ENV[role]}={value!r}: expected an image name without spaces")
    if overrides:
        settings = replace(settings, images=replace(settings.images, **overrides))
    return settings


def _parse_file(path: Path, settings: Settings) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    doc = YamlDoc(text, str(path))
    data = doc.data
    if data is None:
        return settings
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of settings at the top level")
    known = {"images", "debian_suite", "state_retention_days", "security", "hosts", "engine", "git", "agent",
             "auto_stop"}
    for key in data:
        if key not in known:
            raise doc.fail([str(key)], f"one of {', '.join(sorted(known))} (unknown key)")
    images = data.get("images", {})
    if images is None:
        images = {}
    if not isinstance(images, dict):
        raise doc.fail(["images"], "a mapping with keys agent, dev, base")
    toolchains = _parse_toolchain_images(doc, images.get("toolchains"))
    definition = images.get("definition", "")
    if definition != "" and not (isinstance(definition, str) and _validate_image_name(definition)
                                 and not definition.startswith("/") and ".." not in definition.split("/")):
        raise doc.fail(["images", "definition"], "a Containerfile's path inside the repository, such as "
                       "docker/dev.Containerfile")
    images = {k: v for k, v in images.items() if k not in ("toolchains", "definition")}
    for role, value in images.items():
        if role not in ("agent", "dev", "base"):
            raise doc.fail(["images", str(role)], "one of agent, dev, base, toolchains, definition (unknown key)")
        if not _validate_image_name(value):
            raise doc.fail(["images", role], "an image name such as registry.example/symposium/dev:1")
    suite = data.get("debian_suite", settings.debian_suite)
    if not isinstance(suite, str) or not (suite.isascii() and suite.isalnum()):
        raise doc.fail(["debian_suite"], "a Debian suite name such as bookworm")
    retention = data.get("state_retention_days", settings.state_retention_days)
    if (isinstance(retention, bool) or not isinstance(retention, (int, float))
            or not 0 <= retention <= MAX_DURATION_DAYS):  # also refuses .nan; .inf is too many
        raise doc.fail(["state_retention_days"], f"a number of days, 0 to {MAX_DURATION_DAYS}")
    default, allow = _parse_security(doc, data.get("security"), settings)
    return Settings(images=replace(settings.images, toolchains=toolchains, definition=definition, **images), debian_suite=suite,
                    state_retention_days=float(retention), security_default=default,
                    restricted_allow=allow, hosts=_parse_hosts(doc, data.get("hosts")),
                    network_backend=_parse_engine(doc, data.get("engine"), settings),
                    agent=_parse_agent(doc, data.get("agent")), auto_stop=_parse_auto_stop(doc, data.get("auto_stop")),
                    **_parse_git(doc, data.get("git")))


AUTO_STOP_KEYS = ("after", "tiers", "projects")
NEVER = ("off", "never")


def _parse_auto_stop(doc: YamlDoc, section: Any) -> AutoStop:
    """auto_stop: {after: 2h, tiers: {NAME: {after: 8h}}, projects: {NAME: {after: off}}}"""
    if section is None:
        return AutoStop()
    if not isinstance(section, dict):
        raise doc.fail(["auto_stop"], f"a mapping with the keys {', '.join(AUTO_STOP_KEYS)}")
    for key in section:
        if key not in AUTO_STOP_KEYS:
            raise doc.fail(["auto_stop", str(key)], f"one of {', '.join(AUTO_STOP_KEYS)} (unknown key)")
    overrides: dict[str, tuple[tuple[str, float | None], ...]] = {}
    for kind in ("tiers", "projects"):
        entries = section.get(kind) or {}
        if not isinstance(entries, dict):
            raise doc.fail(["auto_stop", kind], f"a mapping of {kind[:-1]} names to {{after: DURATION}}")
        found = []
        for name, entry in entries.items():
            keys = ["auto_stop", kind, str(name)]
            if not isinstance(entry, dict) or set(entry) != {"after"}:
                raise doc.fail(keys, "a mapping with the key after (a duration such as 8h, or off)")
            found.append((str(name), _idle_after(doc, [*keys, "after"], entry["after"])))
        overrides[kind] = tuple(found)
    after = _idle_after(doc, ["auto_stop", "after"], section["after"]) if "after" in section else None
    return AutoStop(after, overrides["tiers"], overrides["projects"])


def _idle_after(doc: YamlDoc, keys: list[str], value: Any) -> float | None:
    """A duration of at least MIN_AFTER, or off (YAML reads a bare off as false)."""
    if value is False or value in NEVER:
        return None
    expected = f"a duration of at least {MIN_AFTER:g}s such as 30s, 90m or 2h, or off"
    try:
        seconds = parse_duration(str(value), "after") if isinstance(value, str) else None
    except UsageError:
        seconds = None
    if seconds is None or seconds < MIN_AFTER:
        raise doc.fail(keys, expected)
    return seconds


AGENT_KEYS = ("command", "env", "restart", "restart_limit", "idle_after")


def _parse_agent(doc: YamlDoc, section: Any) -> AgentSpec:
    """agent: {command: [argv], env: {NAME: value | "@auth/NAME"}, restart: on-failure|always|never,
    restart_limit: N, idle_after: 5m}"""
    spec = AgentSpec()
    if section is None:
        return spec
    if not isinstance(section, dict):
        raise doc.fail(["agent"], f"a mapping with the keys {', '.join(AGENT_KEYS)}")
    for key in section:
        if key not in AGENT_KEYS:
            raise doc.fail(["agent", str(key)], f"one of {', '.join(AGENT_KEYS)} (unknown key)")
    command = section.get("command") or []
    if (problem := command_problem(command)) is not None:
        raise doc.fail(["agent", "command"], problem)
    env = section.get("env") or {}
    if not isinstance(env, dict):
        raise doc.fail(["agent", "env"], "a mapping of environment variable names to values")
    for name, value in env.items():
        if (problem := env_problem(name, value)) is not None:
            raise doc.fail(["agent", "env", str(name)], problem)
    restart = section.get("restart", spec.restart)
    if restart not in RESTART_RULES:
        raise doc.fail(["agent", "restart"], f"one of {', '.join(RESTART_RULES)}")
    limit = section.get("restart_limit", spec.restart_limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 100:
        raise doc.fail(["agent", "restart_limit"], "a whole number of restarts, 0 to 100")
    idle = section.get("idle_after")
    try:
        idle_after = spec.idle_after if idle is None else parse_duration(str(idle), "idle_after")
    except UsageError:
        raise doc.fail(["agent", "idle_after"], "a duration such as 5m or 90s") from None
    return AgentSpec(tuple(command), tuple((str(k), str(v)) for k, v in env.items()), restart, limit,
                     max(idle_after, 1.0))


def _parse_toolchain_images(doc: YamlDoc, section: Any) -> tuple[tuple[str, str, str], ...]:
    """images: {toolchains: {rust: {agent: NAME, dev: NAME}, python+rust: {...}}}"""
    from symposium_tui.core.toolchains import key_of, parse_choice

    if section is None:
        return ()
    if not isinstance(section, dict):
        raise doc.fail(["images", "toolchains"], "a mapping of toolchains (rust, node+python) to {agent, dev}")
    found = []
    for key, names in section.items():
        try:
            types = parse_choice(str(key))
        except ValueError:
            types = ()
        if not types:
            raise doc.fail(["images", "toolchains", str(key)], "rust, node, python, go, or several joined by +")
        if not isinstance(names, dict) or set(names) != {"agent", "dev"}:
            raise doc.fail(["images", "toolchains", str(key)], "a mapping with the keys agent and dev")
        for role, value in names.items():
            if not _validate_image_name(value):
                raise doc.fail(["images", "toolchains", str(key), role], "an image name")
        found.append((key_of(types), names["agent"], names["dev"]))
    return tuple(found)


def valid_git_value(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200 and value.strip() == value \
        and all(c.isprintable() for c in value)


def _parse_git(doc: YamlDoc, section: Any) -> dict[str, str]:
    """git: {name: ..., email: ...}: the identity of commits made in taskspaces."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise doc.fail(["git"], "a mapping with the keys name, email")
    found = {}
    for key, value in section.items():
        if key not in ("name", "email"):
            raise doc.fail(["git", str(key)], "one of name, email (unknown key)")
        if not valid_git_value(value):
            raise doc.fail(["git", key], "text of at most 200 printable characters")
        found[f"git_{key}"] = value
    return found


NETWORK_BACKENDS = ("netavark", "cni")


def _parse_engine(doc: YamlDoc, section: Any, settings: Settings) -> str:
    """engine: {network_backend: netavark|cni} for the podman service the product starts."""
    if section is None:
        return settings.network_backend
    if not isinstance(section, dict):
        raise doc.fail(["engine"], "a mapping with the key network_backend")
    for key in section:
        if key != "network_backend":
            raise doc.fail(["engine", str(key)], "network_backend (unknown key)")
    backend = section.get("network_backend", settings.network_backend)
    if backend not in NETWORK_BACKENDS:
        raise doc.fail(["engine", "network_backend"], f"one of {', '.join(NETWORK_BACKENDS)}")
    return str(backend)


def _parse_hosts(doc: YamlDoc, section: Any) -> tuple[HostSpec, ...]:
    """hosts: {NAME: {url: ssh://user@host[:port]/path/podman.sock, identity: ~/.ssh/key}}"""
    if section is None:
        return ()
    if not isinstance(section, dict):
        raise doc.fail(["hosts"], "a mapping of host names to {url, identity}")
    hosts = []
    for name, entry in section.items():
        if not isinstance(name, str) or not valid_host_name(name) or name == LOCAL:
            raise doc.fail(["hosts", str(name)], "a host name of letters, digits, '.', '_' or '-' "
                           f"(not {LOCAL!r}, the name of this machine's engine)")
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise doc.fail(["hosts", name], "a mapping with url (and optionally identity)")
        for key in entry:
            if key not in ("url", "identity"):
                raise doc.fail(["hosts", name, str(key)], "one of url, identity (unknown key)")
        url = entry["url"]
        if not url.startswith(("ssh://", "unix:///", "tcp://")) or any(c.isspace() or not c.isprintable()
                                                                        for c in url):
            raise doc.fail(["hosts", name, "url"], "ssh://user@host[:port]/path/to/podman.sock, "
                           "unix:///path.sock or tcp://host:port")
        identity = entry.get("identity")
        if identity is not None and (not isinstance(identity, str) or not identity.strip() or any(
                not c.isprintable() or c.isspace() or c in "\"'#" for c in identity)):
            raise doc.fail(["hosts", name, "identity"], "the path of an SSH private key (no spaces, quotes "
                           "or control characters)")
        hosts.append(HostSpec(name, url, identity, "config.yaml"))
    return tuple(hosts)


def _parse_security(doc: YamlDoc, section: Any, settings: Settings) -> tuple[str, tuple[AllowRule, ...]]:
    if section is None:
        return settings.security_default, settings.restricted_allow
    if not isinstance(section, dict):
        raise doc.fail(["security"], "a mapping with keys default, restricted_allow")
    for key in section:
        if key not in ("default", "restricted_allow"):
            raise doc.fail(["security", str(key)], "one of default, restricted_allow (unknown key)")
    default = section.get("default", settings.security_default)
    if default not in LEVELS:
        raise doc.fail(["security", "default"], f"one of {', '.join(LEVELS)}")
    entries = section.get("restricted_allow") or []
    if not isinstance(entries, list):
        raise doc.fail(["security", "restricted_allow"], "a list of HOST[:PORT][/tcp|/udp] entries")
    allow = []
    for index, entry in enumerate(entries):
        try:
            allow.append(parse_allow(entry))
        except ValueError as exc:
            raise doc.fail(["security", "restricted_allow", index], f"{ALLOW_FORMAT}, not {exc}") from None
    return default, tuple(allow)
