"""A taskspace's storage on podman, made for a create: its project disk (an ext4 file system of exactly
the storage limit in a sparse file, loop-mounted by podman as the writable layer), agent state,
build cache, the repository's shared base, and the copy-on-write workspace (an overlay of one of
the base's generations below the layer) both containers mount.

A base holds one generation per start commit (gen/COMMIT), each made under the base's lock from
the newest one before it: its files hard-linked, only what is new fetched and checked out. A
generation is never changed once made; gc-volumes removes the ones no workspace reads."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
import tempfile
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path

from symposium_tui.backends.podman.specs import BindMount, ContainerSpec, PodmanEngine, VolumeMount, VolumeSpec
from symposium_tui.core import labels as L
from symposium_tui.core.backend import Generation, Storage, StorageRequest, Undo
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.ids import volume_name
from symposium_tui.core.models import ExecResult, VolumeInfo
from symposium_tui.core.repos import RepoSpec, is_commit_id
from symposium_tui.core.taskspace import CONTAINER_UID
from symposium_tui.core.toolchains import CACHE_DIRS, detect

# Runs in a throwaway container from the agent image. The repository arrives as "$1" (never
# through a shell string); the clone lands in .incoming and is renamed, so a half-made base is
# redone. The project disk is an ext4 file system of exactly the storage limit, in a sparse file:
# podman loop-mounts it as the project volume, so the taskspace's writes (the overlay's upper
# layer) and its build cache can never take more than the limit.
INIT_SCRIPT = r"""
set -eu
repo="$1"; origin="$2"; uid="$3"; size="$4"; want="$5"; branch="$6"; kind="$7"; shift 7
export GIT_CONFIG_COUNT=7 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' \
    GIT_CONFIG_KEY_1=gc.auto GIT_CONFIG_VALUE_1=0 GIT_CONFIG_KEY_2=maintenance.auto GIT_CONFIG_VALUE_2=false \
    GIT_CONFIG_KEY_3=core.hooksPath GIT_CONFIG_VALUE_3=/dev/null \
    GIT_CONFIG_KEY_4=advice.detachedHead GIT_CONFIG_VALUE_4=false GIT_TERMINAL_PROMPT=0 \
    GIT_CONFIG_KEY_5=checkout.workers GIT_CONFIG_VALUE_5=0 \
    GIT_CONFIG_KEY_6=core.trustctime GIT_CONFIG_VALUE_6=false
mkdir -p /base/gen
rm -rf /base/.incoming
as_user() { HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"; }
make_generation() {
    inc=/base/.incoming
    prev=$(ls -1t /base/gen | head -n 1)
    if [ -n "$prev" ]; then prev="/base/gen/$prev"; elif [ -d /base/repo/.git ]; then prev=/base/repo; fi
    if [ -n "$prev" ]; then
        # The newest generation's files as hard links (what the new commit leaves as it is costs no
        # space twice); .git's own files are copied, as git appends to some in place (its logs), and
        # its objects, which git never changes, are linked. Git replaces a file it checks out (a new
        # inode), so the generation linked from is never changed.
        cp -al "$prev" "$inc"
        rm -rf "$inc/.git"
        mkdir "$inc/.git"
        (cd "$prev/.git" && tar --exclude=./objects -cf - .) | tar -C "$inc/.git" -xpf -
        cp -al "$prev/.git/objects" "$inc/.git/objects"
        rm -f "$inc/.git/FETCH_HEAD" "$inc/.git/ORIG_HEAD"
        cd "$inc"
        # its remote-tracking refs stay: they tell the fetch below what this generation has, so
        # only the objects of new commits travel
        git remote set-url origin "$origin" >/dev/null 2>&1 || git remote add origin "$origin"
    elif [ "$kind" = path ] && [ -d "$repo" ] && [ ! -e "$repo/.git/objects/info/alternates" ] \
            && [ ! -e "$repo/objects/info/alternates" ]; then
        # A repository on this machine (mounted): its objects copied as they are, as `git clone`
        # does (git refuses links among them), instead of a fetch that packs and indexes them all
        # again. Its config, hooks and working tree are not read.
        git clone --quiet --local --no-hardlinks --no-checkout -- "$repo" "$inc"
        printf '/.build-cache/\n' >> "$inc/.git/info/exclude"
        cd "$inc"
        git remote set-url origin "$origin"
    else
        git init --quiet "$inc"
        printf '/.build-cache/\n' >> "$inc/.git/info/exclude"
        cd "$inc"
        git remote add origin "$origin"
    fi
    # files linked from the generation before have a new ctime, not new content
    git config core.trustctime false
    git fetch --quiet --no-tags --force --prune -- "$repo" '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*'
    sha=""
    if [ "$kind" = path ]; then
        git cat-file -e "$want^{commit}" 2>/dev/null || git fetch --quiet --no-tags -- "$repo" "$want" 2>/dev/null || true
        sha=$(git rev-parse -q --verify "$want^{commit}" || true)
    elif [ -z "$want" ]; then
        git fetch --quiet --no-tags -- "$repo" HEAD
        sha=$(git rev-parse -q --verify "FETCH_HEAD^{commit}" || true)
    else
        for candidate in "refs/remotes/origin/$want" "refs/tags/$want"; do
            sha=$(git rev-parse -q --verify "$candidate^{commit}" || true)
            [ -z "$sha" ] || break
        done
        case "$sha$want" in
            *[!0-9a-f]*) ;;
            *) git fetch --quiet --no-tags -- "$repo" "$want" 2>/dev/null || true
               sha=$(git rev-parse -q --verify "$want^{commit}" || true) ;;
        esac
    fi
    case "$sha" in
        [0-9a-f]*) ;;
        *) echo "no branch, tag or commit ${want:-HEAD} in the repository" >&2; exit 64 ;;
    esac
    rm -f .git/FETCH_HEAD
    if [ -d "/base/gen/$sha" ]; then
        cd /; rm -rf "$inc"
    else
        # Checked out as the containers' user: the index records the owner of every file, and a
        # chown afterwards would make each taskspace's first `git status` read the whole tree.
        find "$inc" ! -user "$uid" -exec chown -h "$uid:$uid" -- "{}" +
        as_user git update-index -q --refresh >/dev/null 2>&1 || true
        as_user git checkout --quiet --detach "$sha"
        git for-each-ref --format='%(refname)' refs/heads/ | while read -r ref; do git update-ref -d "$ref"; done
        find "$inc" ! -user "$uid" -exec chown -h "$uid:$uid" -- "{}" +
        touch "$inc"
        cd /
        mv "$inc" "/base/gen/$sha"
    fi
}
if [ "$kind" = path ] && [ -d "/base/gen/$want" ]; then
    sha="$want"  # taskspaces at one commit share its generation
else
    make_generation
fi
echo "start=$sha"
# what is at its root says which toolchains it needs (core/toolchains.py), and whether it defines
# its own environment (core/definition.py); git's object ids key the images built from it
git -C "/base/gen/$sha" ls-tree "$sha" | head -n 500 | sed 's/^/root=/'
echo "tree=$(git -C "/base/gen/$sha" rev-parse "$sha^{tree}")"
seed=/tmp/project-seed
mkdir -p "$seed/upper/.git/refs/heads/$branch" "$seed/work" "$seed/cache"
rmdir "$seed/upper/.git/refs/heads/$branch"
if [ -e "/base/gen/$sha/package.json" ] && [ ! -e "/base/gen/$sha/node_modules" ]; then
    # npm's packages in the build cache, not in the copy-on-write layer
    ln -s .build-cache/node_modules "$seed/upper/node_modules"
    mkdir -p "$seed/upper/.git/info"
    { cat "/base/gen/$sha/.git/info/exclude" 2>/dev/null || true; printf '/node_modules\n'; } \
        > "$seed/upper/.git/info/exclude"
fi
# the taskspace's own branch at the start commit, checked out: written in its layer alone
printf 'ref: refs/heads/%s\n' "$branch" > "$seed/upper/.git/HEAD"
printf '%s\n' "$sha" > "$seed/upper/.git/refs/heads/$branch"
if [ -n "${SYMPOSIUM_GIT_NAME:-}${SYMPOSIUM_GIT_EMAIL:-}" ]; then
    # the person's identity in this taskspace's own copy of the repository's config
    cp "/base/gen/$sha/.git/config" "$seed/upper/.git/config"
    if [ -n "${SYMPOSIUM_GIT_NAME:-}" ]; then git config -f "$seed/upper/.git/config" user.name "$SYMPOSIUM_GIT_NAME"; fi
    if [ -n "${SYMPOSIUM_GIT_EMAIL:-}" ]; then git config -f "$seed/upper/.git/config" user.email "$SYMPOSIUM_GIT_EMAIL"; fi
fi
for dir in "$@"; do mkdir -p "$seed/cache/$dir"; done
chown -hR "$uid:$uid" "$seed/upper" "$seed/cache"
rm -f /disk/.project.img
truncate -s "$size" /disk/.project.img
mkfs.ext4 -q -F -m 0 -L symposium -E lazy_itable_init=1,lazy_journal_init=1,nodiscard \
    -d "$seed" /disk/.project.img
mv /disk/.project.img /disk/project.img
mkdir -p /state/tmux /state/logs /state/history
chmod 755 /state/tmux /state/logs /state/history
chown -R "$uid:$uid" /state
"""
# A base's generations, each with what removing it would free (blocks of its files no other
# generation links to) and a line per generation: "COMMIT KIB".
GENERATIONS_SCRIPT = r"""
cd /base 2>/dev/null || exit 0
for dir in gen/* repo; do
    [ -d "$dir" ] || continue
    kib=$(find "$dir" \( -type d -o -links 1 \) -printf '%k\n' 2>/dev/null | { total=0; while read -r k; do total=$((total + k)); done; echo "$total"; })
    echo "${dir#gen/} $kib"
done
"""
REMOVE_GENERATION_SCRIPT = r"""
set -eu
case "$1" in repo) dir=/base/repo ;; *) dir="/base/gen/$1" ;; esac
[ -d "$dir" ] || exit 0
mv "$dir" "/base/.removing-$1"
rm -rf "/base/.removing-$1"
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
        self.detected: tuple[str, ...] = ()  # the toolchains its start commit's root calls for
        self.root: tuple[tuple[str, str, str], ...] = ()  # its root's (name, blob/tree, object id)
        self.tree = ""  # the start commit's tree id

    def provision(self, step: Callable[[str], None]) -> Storage:
        request = self.request
        branch = request.branch or f"taskspace/{request.taskspace}"
        step("volumes")
        volumes = self.volumes(request.taskspace)
        step("project")
        lock = request.base_lock(request.repo.base_volume) if request.base_lock else nullcontext()
        with lock:  # held until the workspace reads its generation: gc-volumes takes none in use
            base = self._base_volume(request.repo)
            start = self._init_storage(request.repo, base, volumes.disk, volumes.state, request.size,
                                       request.image, branch)
            workspace = self._workspace_volume(request.taskspace, base, volumes.layer, start, branch)
        return Storage(volumes.layer.name, workspace, volumes.state.name, volumes.cache.name, start, branch,
                       self.detected, base.name, self.root, self.tree)

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
                      size: int, image: str, branch: str) -> str:
        """Makes the base's generation at the start commit (unless there is one) and the project
        disk with the taskspace's branch on it; returns the start commit."""
        # A worktree's (or submodule's) .git names a directory elsewhere on this machine, which
        # the container would not have: it travels as a bundle, as to an engine on another machine.
        linked = repo.kind == "path" and (Path(repo.source) / ".git").is_file()
        mounted = repo.kind == "path" and self.engine.local and not linked
        source = "/source" if mounted else repo.source
        binds = (BindMount(repo.source, "/source"),) if mounted else ()
        with ExitStack() as cleanup:
            files = None
            if repo.kind == "path" and not mounted:
                # The repository travels as a git bundle (in a temporary directory made only then,
                # so a killed create leaves none behind here).
                tmp = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="symposium-bundle-"))
                source, files = "/source.bundle", {"source.bundle": git_bundle(repo.source, Path(tmp))}
            result = self._run_init(repo, base, disk, state, size, image, source, binds, files, branch)
        detail = (result.stderr or result.stdout).strip().splitlines()
        if result.exit_code == 64:
            raise UsageError(f"--ref {self.request.ref or 'HEAD'}: no branch, tag or commit of that name in "
                             f"{repo.argument}")
        if result.exit_code != 0:
            raise SymposiumError(f"preparing project storage from {repo.argument} failed: "
                                 + (" | ".join(detail[-3:]) or f"exit code {result.exit_code}"))
        start = next((line[6:] for line in result.stdout.splitlines() if line.startswith("start=")), "")
        if not is_commit_id(start) or (repo.kind == "path" and start != self.request.ref):
            raise SymposiumError(f"preparing project storage from {repo.argument} gave no start commit")
        self.root, self.tree = root_entries(result.stdout)
        self.detected = detect(name for name, _, _ in self.root)
        return start

    def _run_init(self, repo: RepoSpec, base: VolumeInfo, disk: VolumeInfo, state: VolumeInfo,
                  size: int, image: str, source: str, binds: tuple[BindMount, ...],
                  files: dict[str, Path] | None, branch: str) -> ExecResult:
        spec = ContainerSpec(
            name="", image=image, labels=L.ours("init") | self.mark, entrypoint=("/bin/sh",),
            command=("-c", INIT_SCRIPT, "symposium-init", source, repo.source, str(CONTAINER_UID),
                     str(size), self.request.ref, branch, repo.kind, *CACHE_DIRS),
            volumes=(VolumeMount(base.name, "/base"), VolumeMount(disk.name, "/disk"),
                     VolumeMount(state.name, "/state")),
            binds=binds, network=None if repo.needs_network else "none", env=self.request.git_identity)
        return self.engine.run(spec, files=files)

    def _workspace_volume(self, taskspace: str, base: VolumeInfo, layer: VolumeInfo, start: str,
                          branch: str) -> str:
        """One overlay mount both containers share: the base's generation at the start commit
        read-only below, this layer on top."""
        name = volume_name(taskspace, "workspace")
        if self.engine.volume(name) is not None:
            raise SymposiumError(f"volume {name} already exists", hint="remove it, or choose another id")
        options = {"type": "overlay", "device": "overlay",
                   "o": f"lowerdir={base.mountpoint}/gen/{start},upperdir={layer.mountpoint}/upper,"
                        f"workdir={layer.mountpoint}/work"}
        labels = L.ours("workspace", taskspace) | self.mark | {
            L.BASE: base.name, L.START: start, L.BRANCH: branch, L.REPO: self.request.repo.source}
        self.engine.create_volume(VolumeSpec(name, labels, options))
        self.undo(f"volume {name}", lambda: self.engine.remove_volume(name))
        return name


_OBJECT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")


def root_entries(output: str) -> tuple[tuple[tuple[str, str, str], ...], str]:
    """The init script's `root=MODE TYPE ID\tNAME` lines (git ls-tree of the start commit) and
    its `tree=ID`: text from a container, so only well-formed entries count."""
    entries, tree = [], ""
    for line in output.splitlines():
        if line.startswith("root="):
            meta, _, name = line[5:].partition("\t")
            words = meta.split(" ")
            if len(words) == 3 and words[1] in ("blob", "tree") and _OBJECT.match(words[2]) and name:
                entries.append((name, words[1], words[2]))
        elif line.startswith("tree=") and _OBJECT.match(line[5:]):
            tree = line[5:]
    return tuple(entries), tree


def generation_read(workspace: VolumeInfo, base: VolumeInfo) -> str | None:
    """The generation of BASE a workspace volume reads (from its overlay's lower directory), if any."""
    for option in workspace.options.get("o", "").split(","):
        key, _, value = option.partition("=")
        if key == "lowerdir" and value.startswith(base.mountpoint.rstrip("/") + "/"):
            rest = value[len(base.mountpoint.rstrip("/")) + 1:]
            if rest == "repo":
                return "repo"
            if rest.startswith("gen/") and is_commit_id(rest[4:]):
                return rest[4:]
    return None


class PodmanBases:
    """The bases' generations: a part of PodmanBackend (its engine is the adapter)."""

    engine: PodmanEngine

    def _base_run(self, base: VolumeInfo, image: str, command: tuple[str, ...]) -> ExecResult:
        result = self.engine.run(ContainerSpec(
            name="", image=image, labels=L.ours("probe"), entrypoint=("/bin/sh",),
            command=command, network="none",
            volumes=(VolumeMount(base.name, "/base"),)))
        if result.exit_code != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise SymposiumError(f"reading the base {base.name} failed: "
                                 + (detail[-1] if detail else f"exit code {result.exit_code}"))
        return result

    def generations(self, base: str, image: str) -> list[Generation]:
        volume = self.engine.volume(base)
        if volume is None or volume.labels.get(L.ROLE) != "project-base" or not L.is_ours(volume.labels):
            return []
        users: dict[str, list[str]] = {}
        for workspace in self.engine.volumes(L.ALL_OURS | {L.ROLE: "workspace"}):
            if (commit := generation_read(workspace, volume)) is not None:
                users.setdefault(commit, []).append(L.taskspace_of(workspace.labels) or workspace.name)
        found = []
        for line in self._base_run(volume, image, ("-c", GENERATIONS_SCRIPT)).stdout.splitlines():
            commit, _, kib = line.partition(" ")
            if (commit == "repo" or is_commit_id(commit)) and kib.isdigit():
                found.append(Generation(base, commit, int(kib) * 1024, tuple(sorted(users.get(commit, ())))))
        return found

    def remove_generation(self, base: str, commit: str, image: str) -> None:
        volume = self.engine.volume(base)
        if volume is None or not (commit == "repo" or is_commit_id(commit)):
            return
        self._base_run(volume, image, ("-c", REMOVE_GENERATION_SCRIPT, "symposium-gc", commit))


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
