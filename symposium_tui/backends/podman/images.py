"""Build the default agent and dev images with no registry.

The slow part, a Debian root filesystem made by mmdebstrap, is cached as a tarball in the cache
dir; images carry a recipe label, so an up-to-date image is not rebuilt and a second build takes
seconds. The Containerfiles live in symposium_tui/images/.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from symposium_tui.core import labels as L
from symposium_tui.core.toolchains import key_of, packages_for
from symposium_tui.core.config import Settings
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.keys import ensure_key
from symposium_tui.core.paths import AppPaths
from symposium_tui.backends.podman.adapter import Engine

ROOTFS_PACKAGES = (
    "openssh-server", "openssh-client", "git", "tmux", "ca-certificates", "procps",
    "netcat-openbsd", "iproute2", "curl", "less", "e2fsprogs",
)
Progress = Callable[[str], None]


def recipe_dir(name: str) -> Path:
    return Path(str(resources.files("symposium_tui") / "images" / name))


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _files_digest(directory: Path) -> list[bytes]:
    return [p.name.encode() + p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()]


@dataclass(frozen=True)
class BuildStep:
    role: str
    image: str
    built: bool  # False: already up to date
    image_id: str


class ImageBuilder:
    def __init__(self, engine: Engine, paths: AppPaths, settings: Settings,
                 progress: Progress | None = None) -> None:
        self.engine = engine
        self.paths = paths
        self.settings = settings
        self.progress = progress or (lambda line: None)

    # -- the root filesystem ------------------------------------------------------------------
    def rootfs_recipe(self, extra: tuple[str, ...] = ()) -> str:
        packages = ROOTFS_PACKAGES + tuple(p for p in extra if p not in ROOTFS_PACKAGES)
        return _digest(self.settings.debian_suite.encode(), " ".join(packages).encode())

    def rootfs_tar(self, extra: tuple[str, ...] = ()) -> Path:
        """Debian with the images' packages and EXTRA (a toolchain's), cached by its recipe."""
        packages = ROOTFS_PACKAGES + tuple(p for p in extra if p not in ROOTFS_PACKAGES)
        tar = self.paths.rootfs_cache / f"debian-{self.settings.debian_suite}-{self.rootfs_recipe(extra)}.tar"
        if tar.is_file():
            self.progress(f"root filesystem: cached at {tar}")
            return tar
        mmdebstrap = shutil.which("mmdebstrap")
        if mmdebstrap is None:
            raise SymposiumError(
                "mmdebstrap is not installed: it makes the Debian root filesystem of the images",
                hint="apt-get install mmdebstrap (or set images.agent/images.dev in config.yaml to "
                     "images from your registry)")
        tar.parent.mkdir(parents=True, exist_ok=True)
        # mmdebstrap picks its output format from the extension: keep ".tar" last.
        partial = tar.with_name(f"{tar.stem}.partial-{os.getpid()}.tar")
        cmd = [mmdebstrap, "--variant=apt", "--include=" + ",".join(packages),
               self.settings.debian_suite, str(partial)]
        if os.getuid() != 0:
            cmd.insert(1, "--mode=unshare")
        self.progress(f"root filesystem: running {' '.join(cmd[:2])} ... (about a minute, once)")
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            tail: list[str] = []
            for line in proc.stdout:
                self.progress("  " + line.rstrip())
                tail = [*tail[-9:], line.rstrip()]
            if proc.wait() != 0:
                raise SymposiumError("mmdebstrap failed: " + " | ".join(tail[-3:]),
                                     hint="check that Debian's package archive is reachable")
            partial.replace(tar)
        finally:
            partial.unlink(missing_ok=True)
        return tar

    # -- images -------------------------------------------------------------------------------
    def _up_to_date(self, name: str, recipe: str) -> str | None:
        image = self.engine.image(name)
        if image is not None and image.labels.get(L.IMAGE_RECIPE) == recipe:
            return image.id
        return None

    def _build(self, role: str, name: str, recipe: str, files: dict[str, Path | bytes], force: bool,
               build_args: dict[str, str] | None = None, network: bool = False) -> BuildStep:
        if not force and (image_id := self._up_to_date(name, recipe)):
            self.progress(f"{role}: {name} is up to date")
            return BuildStep(role, name, False, image_id)
        self.progress(f"{role}: building {name}")
        with tempfile.TemporaryDirectory(prefix="symposium-build-") as tmp:
            context = Path(tmp) / "context.tar"
            with tarfile.open(context, "w") as tar:
                for arcname, source in files.items():
                    if isinstance(source, bytes):
                        add_bytes(tar, arcname, source)
                    else:
                        tar.add(source, arcname=arcname)
            self.engine.build(context, name, labels={L.IMAGE_ROLE: role, L.IMAGE_RECIPE: recipe},
                              build_args=build_args, network=network,
                              on_output=lambda line: self.progress(f"  {line}"))
        image = self.engine.image(name)
        if image is None:
            raise SymposiumError(f"the build of {name} reported success, but the image is missing")
        return BuildStep(role, name, True, image.id)

    def build_all(self, force: bool = False) -> list[BuildStep]:
        images = self.settings.images
        return self._build_set(images.base, images.dev, images.agent, (), force)

    def build_for(self, types: tuple[str, ...], force: bool = False) -> list[BuildStep]:
        """The images of an environment with these toolchains (the default ones for none)."""
        if not types:
            return self.build_all(force)
        key = key_of(types)
        agent, dev = self.settings.images.for_key(key)
        base = f"localhost/symposium/base-{key.replace('+', '-')}:{self.settings.debian_suite}"
        self.progress(f"the {key} environment: {', '.join(packages_for(types))} from Debian's archive")
        return self._build_set(base, dev, agent, packages_for(types), force)

    def _build_set(self, base: str, dev: str, agent: str, extra: tuple[str, ...], force: bool) -> list[BuildStep]:
        base_dir = recipe_dir("base")
        base_recipe = _digest(self.rootfs_recipe(extra).encode(), *_files_digest(base_dir))
        steps: list[BuildStep] = []
        base_id = self._up_to_date(base, base_recipe) if not force else None
        if base_id:
            self.progress(f"base: {base} is up to date")
            steps.append(BuildStep("base", base, False, base_id))
        else:
            files = {"Containerfile": base_dir / "Containerfile", "rootfs.tar": self.rootfs_tar(extra)}
            steps.append(self._build("base", base, base_recipe, files, True))
        return steps + self.layers(steps[0], dev, agent, force=force)

    def layers(self, below: BuildStep, dev: str, agent: str, *, login: str = "",
               env: tuple[tuple[str, str], ...] = (), force: bool = False, network: bool = False) -> list[BuildStep]:
        """The dev and agent images: the product's layer (images/layer) on the image BELOW, with
        its user sharing LOGIN's uid, home and shell (if given) and ENV in both containers; with
        NETWORK, it may install what a repository's image lacks from its package archive."""
        public_key = ensure_key(self.paths.ssh_key)
        env_lines = "".join(f"{name}={value}\n" for name, value in env).encode()
        steps = []
        for role, name, port in (("dev", dev, "2222"), ("agent", agent, "2223")):
            files: dict[str, Path | bytes] = {}
            for directory in ("layer", "common") + (("agent",) if role == "agent" else ()):
                files |= {path.name: path for path in sorted(recipe_dir(directory).iterdir()) if path.is_file()}
            files["Containerfile"] = layer_containerfile(env)
            files["authorized_keys"] = public_key
            files["project.env"] = env_lines
            recipe = _digest(below.image_id.encode(), role.encode(), login.encode(), env_lines,
                             *(n.encode() + (v if isinstance(v, bytes) else v.read_bytes())
                               for n, v in sorted(files.items())))
            steps.append(self._build(role, name, recipe, files, force,
                                     {"BASE": below.image, "ROLE": role, "SSH_PORT": port, "LOGIN": login}, network))
        return steps


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """A file of a build context that is not on disk."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def layer_containerfile(env: tuple[tuple[str, str], ...]) -> bytes:
    """images/layer/Containerfile, with ENV for a repository's containerEnv (values checked by
    core.definition: one printable line without quotes or backslashes; `$` is escaped here, so
    nothing in them is expanded)."""
    text = (recipe_dir("layer") / "Containerfile").read_text()
    for name, value in env:
        text += f'ENV {name}="{value.replace("$", chr(92) + "$")}"\n'
    return text.encode()
