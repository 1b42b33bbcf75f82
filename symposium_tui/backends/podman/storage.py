"""A taskspace's storage on podman, made for a create: its project disk (an ext4 file system of exactly
the storage limit in a sparse file, loop-mounted by podman as the writable layer), agent state,
build cache, the repository's shared base (cloned once, under a lock), and the copy-on-write
workspace (an overlay of the base below the layer) both containers mount."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
import tempfile
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path

from symposium_tui.backends.podman.specs import BindMount, ContainerSpec, PodmanEngine, VolumeMount, VolumeSpec
from symposium_tui.core import labels as L
from symposium_tui.core.backend import Storage, StorageRequest, Undo
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import volume_name
from symposium_tui.core.models import ExecResult, VolumeInfo
from symposium_tui.core.repos import RepoSpec
from symposium_tui.core.taskspace import BUILD_CACHE_DIRS, CONTAINER_UID

# Runs in a throwaway container from the agent image. The repository arrives as "$1" (never
# through a shell string); the clone lands in .incoming and is renamed, so a half-made base is
# redone. The project disk is an ext4 file system of exactly the storage limit, in a sparse file:
# podman loop-mounts it as the project volume, so the taskspace's writes (the overlay's upper
# layer) and its build cache can never take more than the limit.
INIT_SCRIPT = r"""
set -eu
repo="$1"; origin="$2"; uid="$3"; size="$4"; shift 4
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
if [ ! -d /base/repo ]; then
    rm -rf /base/.incoming
    git clone --quiet -- "$repo" /base/.incoming
    git -C /base/.incoming remote set-url origin "$origin"
    printf '/.build-cache/\n' >> /base/.incoming/.git/info/exclude
    chown -R "$uid:$uid" /base/.incoming
    mv /base/.incoming /base/repo
fi
seed=/tmp/project-seed
mkdir -p "$seed/upper" "$seed/work" "$seed/cache"
if [ -n "${SYMPOSIUM_GIT_NAME:-}${SYMPOSIUM_GIT_EMAIL:-}" ]; then
    # the person's identity in this taskspace's own copy of the repository's config
    mkdir -p "$seed/upper/.git"
    cp /base/repo/.git/config "$seed/upper/.git/config"
    if [ -n "${SYMPOSIUM_GIT_NAME:-}" ]; then git config -f "$seed/upper/.git/config" user.name "$SYMPOSIUM_GIT_NAME"; fi
    if [ -n "${SYMPOSIUM_GIT_EMAIL:-}" ]; then git config -f "$seed/upper/.git/config" user.email "$SYMPOSIUM_GIT_EMAIL"; fi
fi
for dir in "$@"; do mkdir -p "$seed/cache/$dir"; done
chown -R "$uid:$uid" "$seed/upper" "$seed/cache"
rm -f /disk/.project.img
truncate -s "$size" /disk/.project.img
mkfs.ext4 -q -F -m 0 -L symposium -E lazy_itable_init=1,lazy_journal_init=1,nodiscard \
    -d "$seed" /disk/.project.img
mv /disk/.project.img /disk/project.img
mkdir -p /state/tmux /state/logs /state/history
chmod 755 /state/tmux /state/logs /state/history
chown -R "$uid:$uid" /state
"""
PROJECT_DISK_FILE = "project.img"



@dataclass(frozen=True)
class TaskspaceVolumes:
    disk: VolumeInfo  # holds project.img
    layer: VolumeInfo  # the loop-mounted file system: upper/, work/, cache/
    state: VolumeInfo  # agent state, kept across re-creations of the id
    cache: VolumeInfo  # a view of layer's cache/


class ProjectStorage:
    """provision(): the volumes of one create, each undone by `undo` if the create fails."""

    def __init__(self, engine: PodmanEngine, request: StorageRequest, undo: Undo) -> None:
        self.engine, self.request, self.undo = engine, request, undo
        self.mark = request.labels

    def provision(self, step: Callable[[str], None]) -> Storage:
        request = self.request
        step("volumes")
        volumes = self.volumes(request.taskspace)
        step("project")
        lock = request.base_lock(request.repo.base_volume) if request.base_lock else nullcontext()
        with lock:
            base = self._base_volume(request.repo)
            self._init_storage(request.repo, base, volumes.disk, volumes.state, request.project_type,
                               request.size, request.image)
        workspace = self._workspace_volume(request.taskspace, base, volumes.layer)
        return Storage(volumes.layer.name, workspace, volumes.state.name, volumes.cache.name)

    def volumes(self, taskspace: str) -> TaskspaceVolumes:
        disk = self._volume(taskspace, "project-disk")
        layer = self._volume(taskspace, "project", options={
            "type": "ext4", "device": f"{disk.mountpoint}/{PROJECT_DISK_FILE}", "o": "loop"})
        state = self._volume(taskspace, "agent-state", reuse=True)
        # uid/gid: podman would otherwise give the cache to the first container's user (root).
        cache = self._volume(taskspace, "build-cache", options={
            "type": "none", "device": f"{layer.mountpoint}/cache",
            "o": f"bind,uid={CONTAINER_UID},gid={CONTAINER_UID}"})
        return TaskspaceVolumes(disk, layer, state, cache)

    def _volume(self, taskspace: str, role: str, reuse: bool = False,
                options: dict[str, str] | None = None) -> VolumeInfo:
        name = volume_name(taskspace, role)
        existing = self.engine.volume(name)
        if existing is not None:
            if reuse and existing.labels.get(L.OWNER) == L.OWNER_VALUE and \
                    existing.labels.get(L.TASKSPACE) == taskspace and existing.labels.get(L.ROLE) == role:
                return existing  # agent state kept from an earlier taskspace of this id
            raise SymposiumError(f"volume {name} already exists" + (
                "" if L.is_ours(existing.labels) else " and was not created by symposium-tui"),
                hint="remove it, or choose another id")
        volume = self.engine.create_volume(VolumeSpec(name, L.ours(role, taskspace) | self.mark, options or {}))
        self.undo(f"volume {name}", lambda: self.engine.remove_volume(name))
        return volume

    def _base_volume(self, repo: RepoSpec) -> VolumeInfo:
        existing = self.engine.volume(repo.base_volume)
        if existing is not None:
            if existing.labels.get(L.ROLE) != "project-base" or not L.is_ours(existing.labels):
                raise SymposiumError(f"volume {repo.base_volume} exists but is not a project base "
                                     "made by symposium-tui")
            return existing
        labels = L.ours("project-base") | {L.PROJECT: repo.project, L.REPO: repo.source}
        volume = self.engine.create_volume(VolumeSpec(repo.base_volume, labels))
        self.undo(f"volume {repo.base_volume}", lambda: self.engine.remove_volume(repo.base_volume))
        return volume

    def _init_storage(self, repo: RepoSpec, base: VolumeInfo, disk: VolumeInfo, state: VolumeInfo,
                      project_type: str, size: int, image: str) -> None:
        source = "/source" if repo.kind == "path" else repo.source
        binds = (BindMount(repo.source, "/source"),) if repo.kind == "path" and self.engine.local else ()
        with ExitStack() as cleanup:
            files = None
            if repo.kind == "path" and not self.engine.local:
                # The engine is on another machine: the repository travels as a git bundle (in a
                # temporary directory made only then, so a killed create leaves none behind here).
                tmp = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="symposium-bundle-"))
                source, files = "/source.bundle", {"source.bundle": git_bundle(repo.source, Path(tmp))}
            result = self._run_init(repo, base, disk, state, project_type, size, image, source, binds, files)
        if result.exit_code != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise SymposiumError(f"preparing project storage from {repo.argument} failed: "
                                 + (" | ".join(detail[-3:]) or f"exit code {result.exit_code}"))

    def _run_init(self, repo: RepoSpec, base: VolumeInfo, disk: VolumeInfo, state: VolumeInfo,
                  project_type: str, size: int, image: str, source: str, binds: tuple[BindMount, ...],
                  files: dict[str, Path] | None) -> ExecResult:
        spec = ContainerSpec(
            name="", image=image, labels=L.ours("init") | self.mark, entrypoint=("/bin/sh",),
            command=("-c", INIT_SCRIPT, "symposium-init", source, repo.source, str(CONTAINER_UID),
                     str(size), *BUILD_CACHE_DIRS[project_type]),
            volumes=(VolumeMount(base.name, "/base"), VolumeMount(disk.name, "/disk"),
                     VolumeMount(state.name, "/state")),
            binds=binds, network=None if repo.needs_network else "none", env=self.request.git_identity)
        return self.engine.run(spec, files=files)

    def _workspace_volume(self, taskspace: str, base: VolumeInfo, layer: VolumeInfo) -> str:
        """One overlay mount both containers share: the base read-only below, this layer on top."""
        name = volume_name(taskspace, "workspace")
        if self.engine.volume(name) is not None:
            raise SymposiumError(f"volume {name} already exists", hint="remove it, or choose another id")
        options = {"type": "overlay", "device": "overlay",
                   "o": f"lowerdir={base.mountpoint}/repo,upperdir={layer.mountpoint}/upper,"
                        f"workdir={layer.mountpoint}/work"}
        self.engine.create_volume(VolumeSpec(name, L.ours("workspace", taskspace) | self.mark, options))
        self.undo(f"volume {name}", lambda: self.engine.remove_volume(name))
        return name


def git_bundle(repository: str, directory: Path) -> Path:
    """The whole repository (every branch and tag) as one file git can clone from."""
    bundle = directory / "source.bundle"
    try:
        proc = subprocess.run(["git", "-C", repository, "bundle", "create", str(bundle), "--all"],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SymposiumError(f"could not pack {repository} for the remote engine: {exc}") from exc
    if proc.returncode != 0:
        raise SymposiumError(f"could not pack {repository} for the remote engine: "
                             + (proc.stderr.strip().splitlines() or ["git bundle failed"])[-1])
    bundle.chmod(0o644)
    return bundle
