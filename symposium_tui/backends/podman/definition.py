"""A repository's own environment on podman (core/definition.py reads what it asks for).

Its files come from the project's base at the start commit: a container that is created, never
started, mounts the base read-only, and podman copies files out of it (so this works the same for
an engine on another machine). The person's image is built from the repository's Containerfile and
keyed by its content (the same definition is not built twice); the product's layer goes on top.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from symposium_tui.backends.podman.images import BuildStep, ImageBuilder, add_bytes
from symposium_tui.backends.podman.specs import ContainerSpec, PodmanEngine, VolumeMount
from symposium_tui.core import definition as D
from symposium_tui.core import labels as L
from symposium_tui.core.backend import RepositoryEnvironment, Storage
from symposium_tui.core.errors import EngineError, SymposiumError
from symposium_tui.core.units import format_size

MAX_CONTEXT = 2 * 2**30  # a build context larger than this is refused
CONTAINERFILE_NAME = ".symposium-containerfile"  # where the Containerfile goes in the build context
Progress = Callable[[str], None]


class RepositoryReader:
    """Files of one generation of a project's base (its start commit), as bytes or a tar."""

    def __init__(self, engine: PodmanEngine, base: str, start: str, image: str) -> None:
        self.engine, self.base, self.root, self.image = engine, base, f"/base/gen/{start}", image
        self.container = ""

    def __enter__(self) -> RepositoryReader:
        self.container = self.engine.create_container(ContainerSpec(
            name="", image=self.image, labels=L.ours("probe"), volumes=(VolumeMount(self.base, "/base", True),),
            command=("true",), entrypoint=(), network="none"))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.engine.remove_container(self.container)

    def read(self, path: str, limit: int = D.MAX_FILE) -> bytes | None:
        """A regular file's bytes (None: there is none at PATH)."""
        stream = self.engine.archive(self.container, posixpath.join(self.root, path))
        if stream is None:
            return None
        with stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    raise D.problem(path, "is not a regular file (a link or a folder)")
                if member.size > limit:
                    raise D.problem(path, f"larger than {limit // 1024} KiB")
                handle = tar.extractfile(member)
                return handle.read() if handle else b""
        return None

    def context(self, folder: str, out: Path, extra: dict[str, bytes]) -> str:
        """FOLDER's files (not git's own) as a build context tar at OUT, with EXTRA added; returns
        a digest of what is in it (names, kinds, modes and contents)."""
        stream = self.engine.archive(self.container, posixpath.normpath(posixpath.join(self.root, folder)))
        if stream is None:
            raise D.problem(folder, "the build context is not a folder of the repository")
        digest, total = hashlib.sha256(), 0
        with stream, tarfile.open(fileobj=stream, mode="r|") as source, tarfile.open(out, "w") as target:
            for member in source:
                name = member.name.split("/", 1)[1] if "/" in member.name else "."
                if name == "." or (folder == "." and (name == ".git" or name.startswith(".git/"))):
                    continue
                if member.islnk() or not (member.isfile() or member.isdir() or member.issym()):
                    continue  # hard links (the base shares files between generations) and devices
                total += member.size
                if total > MAX_CONTEXT:
                    raise D.problem(folder, f"the build context is larger than {format_size(MAX_CONTEXT)}")
                member.name, member.uid, member.gid, member.uname, member.gname = name, 0, 0, "", ""
                data = source.extractfile(member) if member.isfile() else None
                digest.update(f"{name}\0{member.type!r}\0{member.mode}\0{member.linkname}\0".encode())
                if data is not None:
                    content = data.read()
                    digest.update(hashlib.sha256(content).digest())
                    target.addfile(member, io.BytesIO(content))
                else:
                    target.addfile(member)
            for name, content in extra.items():
                add_bytes(target, name, content)
        return digest.hexdigest()


def read_definition(reader: RepositoryReader, storage: Storage, configured: str) -> D.Definition | None:
    """The first definition the repository has, in Symposium's order (None: it has none)."""
    root = {name: kind for name, kind, _ in storage.root}
    for path in D.find(root, configured):
        data = reader.read(path)
        if data is None:
            continue
        if path.endswith(".json") and path in D.DEVCONTAINER_FILES:
            return D.parse_devcontainer(data, path)
        D.text_of(data, path)
        return D.containerfile_definition(path)
    return None


class RepositoryImages:
    """Builds the images of a repository's own definition (with the product's layer on top)."""

    def __init__(self, engine: PodmanEngine, builder: ImageBuilder, progress: Progress) -> None:
        self.engine, self.builder, self.progress = engine, builder, progress

    def environment(self, reader: RepositoryReader, storage: Storage, definition: D.Definition, *,
                    network: bool, memory: int) -> RepositoryEnvironment:
        below = (self._image(definition) if definition.image else
                 self._built(reader, storage, definition, network=network, memory=memory))
        key = hashlib.sha256(f"{below.image_id}\0{definition.remote_user}\0{definition.env!r}".encode()).hexdigest()[:16]
        dev, agent = (f"localhost/symposium/{role}-repo-{key}:latest" for role in ("dev", "agent"))
        steps = self.builder.layers(below, dev, agent, login=definition.remote_user, env=definition.env,
                                    network=True)
        return RepositoryEnvironment(definition, agent=steps[1].image, dev=steps[0].image)

    def _image(self, definition: D.Definition) -> BuildStep:
        image = self.engine.image(definition.image)
        if image is None:
            self.progress(f"pulling {definition.image}")
            try:
                self.engine.pull(definition.image)
            except EngineError as exc:
                raise SymposiumError(f"the image {definition.image} that {definition.path} names is not in the "
                                     f"engine and could not be pulled: {exc}",
                                     hint=f"podman pull {definition.image} (or load it) and create again") from None
            image = self.engine.image(definition.image)
            if image is None:
                raise SymposiumError(f"pulling {definition.image} reported success, but the image is missing")
        return BuildStep("repository", definition.image, False, image.id)

    def _built(self, reader: RepositoryReader, storage: Storage, definition: D.Definition, *,
               network: bool, memory: int) -> BuildStep:
        containerfile = reader.read(definition.containerfile)
        if containerfile is None:
            raise D.problem(definition.path, f"the Containerfile {definition.containerfile} is not in the repository")
        text = D.text_of(containerfile, definition.containerfile)
        trees = {name: oid for name, kind, oid in storage.root if kind == "tree"} | {".": storage.tree}
        uses_context = D.uses_context(text)
        # the git tree of the context when it is the root or a folder at the root; else (a folder
        # further down) its content, read below: either way the files the build may copy
        context_digest = trees.get(definition.context, "") if uses_context else ""
        bases = " ".join(f"{name}={getattr(self.engine.image(name), 'id', '')}"
                         for name in D.base_images(text) if "$" not in name)
        with tempfile.TemporaryDirectory(prefix="symposium-context-") as tmp:
            tar = Path(tmp) / "context.tar"
            if uses_context and not context_digest:
                context_digest = reader.context(definition.context, tar, {CONTAINERFILE_NAME: containerfile})
            key = D.build_key(definition, containerfile, context_digest, bases)
            name = f"localhost/symposium/repo-{key}:latest"
            existing = self.engine.image(name)
            if existing is not None and existing.labels.get(L.IMAGE_RECIPE) == key:
                self.progress(f"{name}: built from the same definition before")
                return BuildStep("repository", name, False, existing.id)
            if not tar.exists():
                if uses_context:
                    reader.context(definition.context, tar, {CONTAINERFILE_NAME: containerfile})
                else:  # the build reads nothing of the repository but its Containerfile
                    with tarfile.open(tar, "w") as out:
                        add_bytes(out, CONTAINERFILE_NAME, containerfile)
            self.progress(f"building {definition.containerfile} as {name} "
                          f"({'with' if network else 'without'} network)")
            try:
                self.engine.build(tar, name, containerfile=CONTAINERFILE_NAME, build_args=dict(definition.args),
                                  labels={L.IMAGE_ROLE: "repository", L.IMAGE_RECIPE: key}, network=network,
                                  target=definition.target, memory=memory,
                                  on_output=lambda line: self.progress(f"  {line}"))
            except EngineError as exc:
                raise SymposiumError(f"the repository's {definition.containerfile} did not build: {exc}",
                                     hint="fix it in the repository, or create with --project-type to use "
                                          "the product's own images") from None
        image = self.engine.image(name)
        if image is None:
            raise SymposiumError(f"the build of {name} reported success, but the image is missing")
        return BuildStep("repository", name, True, image.id)
