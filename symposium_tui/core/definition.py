"""A repository's own definition of its dev environment, read from its start commit (pure: the
files arrive as bytes). Symposium's order: a Containerfile/Dockerfile at the root (or the path
config.yaml names), then `.devcontainer/devcontainer.json` (or `.devcontainer.json`); without
either, the toolchains detected from the root's files decide.

Everything here came from a repository, so it is checked as hostile input: sizes are bounded,
paths stay inside the repository, environment names and values are plain, nothing is expanded
from this machine's environment, and commands are only ever run inside the taskspace.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field

from symposium_tui.core.errors import SymposiumError

CONTAINERFILES = ("Containerfile", "Dockerfile")
DEVCONTAINER_FILES = (".devcontainer/devcontainer.json", ".devcontainer.json")
MAX_FILE = 256 * 1024  # a Containerfile or devcontainer.json larger than this is refused
MAX_ENV = 100
MAX_VALUE = 4096
# devcontainer.json's keys this product acts on; every other key is named as ignored.
USED_KEYS = ("name", "image", "build", "dockerFile", "context", "containerEnv", "postCreateCommand", "remoteUser")
BUILD_KEYS = ("dockerfile", "context", "args", "target")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
_RESERVED_ENV = re.compile(r"(SYMPOSIUM_.*|SSH_PORT|HOME|USER|LOGNAME|SHELL)\Z")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}\Z")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}\Z")
_TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


@dataclass(frozen=True)
class Definition:
    """What a repository asks its environment to be."""

    kind: str  # "Containerfile" or "devcontainer"
    path: str  # the file that says so, from the repository's root
    image: str = ""  # an image used as it is (devcontainer.json's `image`)
    containerfile: str = ""  # else the Containerfile built, from the root
    context: str = "."  # its build context, a folder from the root
    args: tuple[tuple[str, str], ...] = ()
    target: str = ""
    env: tuple[tuple[str, str], ...] = ()  # in both containers and SSH sessions
    post_create: tuple[str | tuple[str, ...], ...] = ()  # run once in the dev container: a string
    # by the container's /bin/sh, an array as it is
    remote_user: str = ""  # the image's user whose uid, home and shell `developer` shares
    notes: tuple[str, ...] = field(default=())  # what of the file is not acted on, said at create

    @property
    def label(self) -> str:
        """What `ls` shows as its type."""
        return "devcontainer" if self.kind == "devcontainer" else "containerfile"


def problem(path: str, what: str) -> SymposiumError:
    return SymposiumError(f"the repository's {path}: {what}",
                          hint="fix it in the repository, or create with --project-type to use the "
                               "product's own images instead")


def inside(base: str, relative: str, path: str, what: str) -> str:
    """RELATIVE (from the folder BASE) as a path from the repository's root, which it must not leave."""
    if not isinstance(relative, str) or not relative or "\0" in relative or relative.startswith("/"):
        raise problem(path, f"{what} must be a relative path inside the repository")
    joined = posixpath.normpath(posixpath.join(base, relative))
    if joined == ".." or joined.startswith("../"):
        raise problem(path, f"{what} {relative!r} leaves the repository")
    return joined


def strip_jsonc(text: str) -> str:
    """JSON with comments (// and /* */) and trailing commas, as devcontainer.json allows, as JSON."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[\]}])", r"\1", "".join(out))


def text_of(data: bytes, path: str) -> str:
    if len(data) > MAX_FILE:
        raise problem(path, f"larger than {MAX_FILE // 1024} KiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problem(path, "not UTF-8 text") from None


def _plain(value: object, path: str, what: str, limit: int = MAX_VALUE) -> str:
    if not isinstance(value, str):
        raise problem(path, f"{what} must be a string")
    if len(value) > limit or any(not c.isprintable() for c in value) or '"' in value or "\\" in value:
        raise problem(path, f"{what} must be one line of printable text without quotes or backslashes, "
                            f"at most {limit} characters")
    return value


def _pairs(value: object, path: str, what: str, notes: list[str]) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise problem(path, f"{what} must be an object of names and strings")
    if len(value) > MAX_ENV:
        raise problem(path, f"{what} has more than {MAX_ENV} entries")
    pairs = []
    for name, text in value.items():
        if not _ENV_NAME.match(name):
            raise problem(path, f"{what}: {name[:60]!r} is not a variable name (letters, digits, _)")
        if _RESERVED_ENV.match(name):
            notes.append(f"{what}.{name} is left out: the product sets it")
            continue
        text = _plain(text, path, f"{what}.{name}")
        if "${" in text:
            notes.append(f"{what}.{name} is left out: ${{...}} variables are not expanded (a repository "
                         "does not read this machine's environment)")
            continue
        pairs.append((name, text))
    return tuple(pairs)


def _commands(value: object, path: str) -> tuple[str | tuple[str, ...], ...]:
    """postCreateCommand: a string (run by /bin/sh -c), an array (run as it is) or an object of
    either (each run, one after another, in the order written)."""
    def one(item: object, what: str) -> str | tuple[str, ...]:
        if isinstance(item, str) and item.strip() and "\0" not in item:
            return item
        if isinstance(item, list) and item and all(isinstance(w, str) and "\0" not in w for w in item):
            return tuple(item)
        raise problem(path, f"{what} must be a command string or an array of strings")
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple(one(item, f"postCreateCommand.{name}") for name, item in value.items())
    return (one(value, "postCreateCommand"),)


def parse_devcontainer(data: bytes, path: str) -> Definition:
    try:
        doc = json.loads(strip_jsonc(text_of(data, path)))
    except ValueError as exc:
        raise problem(path, f"not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise problem(path, "the top level must be an object")
    notes = [f"{key} is ignored" for key in doc if key not in USED_KEYS and key != "$schema"]
    folder = posixpath.dirname(path) or "."
    build = doc.get("build", {})
    if not isinstance(build, dict):
        raise problem(path, "build must be an object")
    notes += [f"build.{key} is ignored" for key in build if key not in BUILD_KEYS]
    dockerfile = build.get("dockerfile", doc.get("dockerFile"))
    image = doc.get("image")
    if dockerfile is None and image is None:
        raise problem(path, "neither image nor build.dockerfile is set")
    if dockerfile is not None and image is not None:
        notes.append("image is ignored: build.dockerfile is set")
    fields: dict = {}
    if dockerfile is not None:
        fields["containerfile"] = inside(folder, dockerfile, path, "build.dockerfile")
        fields["context"] = inside(folder, build.get("context", doc.get("context", ".")), path, "build.context")
        args = build.get("args")
        fields["args"] = _pairs(args, path, "build.args", notes) if args is not None else ()
        if (target := build.get("target")) is not None:
            if not isinstance(target, str) or not _TARGET.match(target):
                raise problem(path, "build.target must be a stage name")
            fields["target"] = target
    else:
        if not isinstance(image, str) or not _IMAGE.match(image):
            raise problem(path, "image must be an image name")
        fields["image"] = image
    user = doc.get("remoteUser")
    if user is not None:
        if not isinstance(user, str) or not _USER.match(user):
            raise problem(path, "remoteUser must be a user name")
        if user == "root":
            notes.append("remoteUser root is not used: SSH sessions are `developer` (uid 1000), who owns the "
                         "workspace's files")
        else:
            fields["remote_user"] = user
    return Definition("devcontainer", path, env=_pairs(doc.get("containerEnv"), path, "containerEnv", notes),
                      post_create=_commands(doc.get("postCreateCommand"), path), notes=tuple(notes), **fields)


def containerfile_definition(path: str) -> Definition:
    return Definition("Containerfile", path, containerfile=path, context=".")


def instructions(text: str) -> list[tuple[str, str]]:
    """A Containerfile's instructions (continued lines joined, comments left out) as (WORD, rest)."""
    found, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.strip().partition(" ")
        found.append((word.upper(), rest.strip()))
        current = ""
    if current.strip():
        word, _, rest = current.strip().partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


def uses_context(text: str) -> bool:
    """Whether a build of this Containerfile reads its context (a COPY or ADD from it, a bind
    mount): if not, its result does not depend on the repository's other files."""
    for word, rest in instructions(text):
        if word in ("COPY", "ADD") and not any(w.startswith("--from") for w in rest.split()):
            return True
        if word == "RUN" and "--mount" in rest:
            return True
    return False


def base_images(text: str) -> tuple[str, ...]:
    """The images a Containerfile's stages start FROM (not its own stages, not `scratch`)."""
    stages: set[str] = set()
    images: list[str] = []
    for word, rest in instructions(text):
        if word != "FROM":
            continue
        words = [w for w in rest.split() if not w.startswith("--")]
        if not words:
            continue
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if words[0].lower() not in stages and words[0] != "scratch" and words[0] not in images:
            images.append(words[0])
    return tuple(images)


def find(root: dict[str, str], configured: str = "") -> list[str]:
    """The files that could define the environment, in the order they are tried, from the
    repository's root entries (name -> git object type); CONFIGURED, a Containerfile's path
    from config.yaml, comes first when its first folder (or itself) is at the root."""
    found = []
    if configured:
        path = inside(".", configured, "images.definition", "images.definition")
        if root.get(path.split("/")[0]) == ("blob" if "/" not in path else "tree"):
            found.append(path)
    found += [name for name in CONTAINERFILES if root.get(name) == "blob" and name not in found]
    if root.get(".devcontainer") == "tree":
        found.append(DEVCONTAINER_FILES[0])
    if root.get(DEVCONTAINER_FILES[1]) == "blob":
        found.append(DEVCONTAINER_FILES[1])
    return found


def build_key(definition: Definition, containerfile: bytes, context_digest: str, base_ids: str = "") -> str:
    """What the person's image is keyed by: the same key is the same image, so it is not rebuilt."""
    h = hashlib.sha256()
    for part in (definition.kind, definition.image, definition.target, json.dumps(definition.args),
                 hashlib.sha256(containerfile).hexdigest(), context_digest, base_ids):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]
