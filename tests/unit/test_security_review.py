"""The claims of docs/security.md that unit tests can prove (issue #11).

Static checks read the source of symposium_tui/ with `ast`: no shell=True, every `sh -c` script a
module-level string constant (user data goes in as "$1"...), every ssh command line ending its
options before the destination, no host key checking turned off. Each static check is also run
on small bad sources, so it is known to fail when such code is added.

The review's gaps were written as `gap` tests (xfail, strict, on AssertionError only) stating what
should be true; all are fixed now and have lost the mark. A gap found later gets the mark, with the
fix it needs in its reason, and docs/security.md says so. Preconditions use pytest.fail, so a
broken set-up is a failure, not an expected one.
"""

from __future__ import annotations

import ast
import io
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from symposium_tui.core import sshconfig
from symposium_tui.core.errors import EngineUnavailable, UsageError
from symposium_tui.core.paths import AppPaths

PACKAGE = Path(__file__).resolve().parents[2] / "symposium_tui"
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash"}
# ssh options that take a value (the next argv entry), from ssh(1).
SSH_OPTIONS_WITH_VALUE = {"-B", "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m",
                          "-O", "-o", "-p", "-Q", "-R", "-S", "-W", "-w"}


def gap(reason: str):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def _need(*programs: str) -> None:
    for program in programs:
        if shutil.which(program) is None and not Path("/usr/sbin", program).exists():
            pytest.skip(f"{program} is not installed")


# -- the static checker ------------------------------------------------------------------------------
def _is_str(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and _is_str(first.value):
                found.add(id(first.value))
    return found


class Source:
    """One module: its tree, and its names bound exactly once, at the top level, to a plain string."""

    def __init__(self, text: str, name: str, package: dict[str, Source] | None = None) -> None:
        self.name = name
        self.tree = ast.parse(text, filename=name)
        self.package = package if package is not None else {}
        bound: dict[str, list[ast.AST]] = {}
        for node in ast.walk(self.tree):
            targets: list[ast.AST] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = [node.target]
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                targets = [node.target] if hasattr(node, "target") else []
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        bound.setdefault(sub.id, []).append(node)
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                for declared in node.names:
                    bound.setdefault(declared, []).append(node)
        self.constants: dict[str, str] = {}
        for node in self.tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name) and _is_str(node.value) \
                        and len(bound.get(targets[0].id, [])) == 1:
                    self.constants[targets[0].id] = node.value.value
        self.imported: dict[str, tuple[str, str]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("symposium_tui"):
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = (node.module or "", alias.name)

    def constant_script(self, node: ast.AST) -> bool:
        """A string literal, or a name bound once at module level to one (here or imported)."""
        if _is_str(node):
            return True
        if not isinstance(node, ast.Name):
            return False
        if node.id in self.constants:
            return True
        module, name = self.imported.get(node.id, ("", ""))
        other = self.package.get(module)
        return other is not None and name in other.constants


def _sequences(tree: ast.AST) -> Iterator[ast.List | ast.Tuple]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)):
            yield node


def _where(source: Source, node: ast.AST) -> str:
    return f"{source.name}:{node.lineno}"


def shell_problems(source: Source) -> list[str]:
    """Everything that could hand a shell a string built from data."""
    problems = []
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant)
                                                   and keyword.value.value is False):
                    problems.append(f"{_where(source, node)}: shell= other than False")
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in {"system", "popen", "getoutput", "getstatusoutput", "create_subprocess_shell"}:
                problems.append(f"{_where(source, node)}: {name}() runs a shell")
    for seq in _sequences(source.tree):
        items = seq.elts
        for index, item in enumerate(items):
            if not (_is_str(item) and item.value == "-c"):
                continue
            script = items[index + 1] if index + 1 < len(items) else None
            if script is None or isinstance(script, ast.Starred) or not source.constant_script(script):
                problems.append(f"{_where(source, seq)}: the script after '-c' is not a string constant "
                                f"({ast.unparse(script) if script is not None else 'missing'})")
    for node in ast.walk(source.tree):
        # A whole shell command line built as one string: f"sh -c ...", "bash -c " + x
        if isinstance(node, (ast.JoinedStr, ast.BinOp)) or (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"format", "join"} and _is_str(node.func.value)):
            text = ast.unparse(node)
            for shell in SHELLS:
                if f"{shell} -c" in text:
                    problems.append(f"{_where(source, node)}: a shell command line built from parts: {text[:60]}")
                    break
    return problems


def _is_ssh_argv(seq: ast.List | ast.Tuple) -> bool:
    if not seq.elts:
        return False
    first = seq.elts[0]
    if _is_str(first):
        # A list, or a tuple with options: not a tuple of names such as ("ssh", "tcp", "http").
        argv = isinstance(seq, ast.List) or any(_is_str(e) and e.value.startswith("-") for e in seq.elts)
        return argv and (first.value == "ssh" or first.value.endswith("/ssh"))
    if isinstance(first, ast.Name):
        return first.id == "ssh"
    if isinstance(first, ast.Starred) and isinstance(first.value, ast.Call):
        func = first.value.func
        return isinstance(func, ast.Attribute) and func.attr == "_base"  # tunnel.py's ssh prefix
    return False


def ssh_problems(source: Source) -> list[str]:
    """ssh command lines: the destination only after '--' (so it is never read as an option), and
    after it only string constants (ssh hands the rest to the remote host's shell)."""
    problems = []
    for seq in _sequences(source.tree):
        if not _is_ssh_argv(seq):
            continue
        items, index = seq.elts[1:], 0
        while index < len(items):
            item = items[index]
            if _is_str(item) and item.value == "--":
                remote = items[index + 2:]
                if not all(_is_str(part) for part in remote):
                    problems.append(f"{_where(source, seq)}: a remote command built from data after the destination")
                break
            if isinstance(item, ast.Starred):
                index += 1
            elif _is_str(item) and item.value.startswith("-"):
                index += 2 if item.value in SSH_OPTIONS_WITH_VALUE else 1
            else:
                problems.append(f"{_where(source, seq)}: {ast.unparse(item)} is a destination before '--'")
                break
    return problems


def host_key_problems(source: Source) -> list[str]:
    """No string (other than docstrings) turns host key checking off or throws keys away."""
    skip = _docstrings(source.tree)
    problems = []
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = " ".join(node.value.split()).lower().replace("=", " ")
            if "stricthostkeychecking no" in text or "stricthostkeychecking off" in text \
                    or "userknownhostsfile /dev/null" in text or "globalknownhostsfile /dev/null" in text:
                problems.append(f"{_where(source, node)}: {node.value.strip()[:60]!r}")
    return problems


def package_sources() -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        sources[module] = Source(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)), sources)
    return sources


@pytest.fixture(scope="module")
def package() -> dict[str, Source]:
    sources = package_sources()
    assert len(sources) > 50, "symposium_tui/ was not found"
    return sources


# -- 3. no shell is given user input ---------------------------------------------------------------
def test_no_shell_true_and_no_shell_helpers_anywhere(package):
    problems = [p for source in package.values() for p in shell_problems(source)
                if "shell=" in p or "runs a shell" in p]
    assert problems == []
    raw = [str(p) for p in PACKAGE.rglob("*.py") if "shell=True" in p.read_text(encoding="utf-8")]
    assert raw == []


def test_every_sh_c_script_is_a_module_constant(package):
    assert [p for source in package.values() for p in shell_problems(source)] == []


def test_the_sh_c_call_sites_are_the_ones_this_review_read(package):
    """If this list changes, read the new call site and update docs/security.md section 3."""
    sites = []
    for module, source in package.items():
        for seq in _sequences(source.tree):
            for index, item in enumerate(seq.elts):
                if _is_str(item) and item.value == "-c" and index + 1 < len(seq.elts):
                    script = seq.elts[index + 1]
                    sites.append((module, script.value[:20] if _is_str(script) else ast.unparse(script)))
    assert sorted(sites) == sorted([
        ("symposium_tui.backends.podman.storage", "INIT_SCRIPT"),
        ("symposium_tui.backends.podman.readiness", "INSIDE_CHECK"),
        ("symposium_tui.backends.podman.workspaces", "trap 'exit 0' TERM; "),
        ("symposium_tui.core.services.lifecycle", "WORK_CHECK_SCRIPT"),
        ("symposium_tui.core.services.changes", "CHANGES_SCRIPT"),
        ("symposium_tui.backends.podman.storage", "GENERATIONS_SCRIPT"),
        ("symposium_tui.backends.podman.storage", "REMOVE_GENERATION_SCRIPT"),
        ("symposium_tui.backends.podman.limits", "FELT_SCRIPT"),
        ("symposium_tui.backends.podman.agentstate", "REMOTE_SCRIPT"),
        ("symposium_tui.backends.podman.backend", "RUN_IN"),
        ("symposium_tui.core.services.idle_stop", "SESSIONS_SCRIPT"),
        ("symposium_tui.backends.podman.copying", "trap 'exit 0' TERM; "),
    ])


def test_the_init_script_takes_the_repository_as_an_argument():
    from symposium_tui.backends.podman.storage import INIT_SCRIPT

    assert 'repo="$1"; origin="$2"; uid="$3"; size="$4"' in INIT_SCRIPT
    # '--': a repository is never an option
    uses = INIT_SCRIPT.count('"$repo"') - INIT_SCRIPT.count('[ -d "$repo" ]')  # a test's operand is no option
    assert INIT_SCRIPT.count('-- "$repo"') == uses == 5
    # nothing left to fill in by format(): no {name} outside shell's own ${...} and git's ^{commit}
    assert not re.search(r"\{[A-Za-z_]\w*\}", INIT_SCRIPT.replace("${", "$").replace("^{commit}", "").replace("^{tree}", ""))


def test_ssh_remote_commands_are_constants(package):
    problems = [p for source in package.values() for p in ssh_problems(source) if "remote command" in p]
    assert problems == []


SSH_WITHOUT_END_OF_OPTIONS = "symposium_tui/ui/app.py"


def test_ssh_destinations_come_after_end_of_options_except_the_dashboard(package):
    problems = [p for source in package.values() for p in ssh_problems(source) if "before '--'" in p]
    assert all(p.startswith(SSH_WITHOUT_END_OF_OPTIONS) for p in problems), problems


def test_ssh_destinations_always_come_after_end_of_options(package):
    assert [p for source in package.values() for p in ssh_problems(source)] == []


def test_no_code_turns_host_key_checking_off(package):
    assert [p for source in package.values() for p in host_key_problems(source)] == []


# The checkers must fail on the code they exist to catch.
BAD_SOURCES = {
    "f-string script": 'run(["sh", "-c", f"git clone {repo}"])',
    "concatenated script": 'run(["/bin/sh", "-c", "git clone " + repo])',
    "format()ed constant": 'SCRIPT = "git clone {}"\nrun(["sh", "-c", SCRIPT.format(repo)])',
    "%-formatted constant": 'SCRIPT = "git clone %s"\nrun(["sh", "-c", SCRIPT % repo])',
    "local variable": 'def f(repo):\n    script = f"git clone {repo}"\n    run(["sh", "-c", script])',
    "module name bound twice": 'SCRIPT = "true"\nSCRIPT = "git clone " + repo\nrun(["sh", "-c", SCRIPT])',
    "module name from an f-string": 'SCRIPT = f"git clone {repo}"\nrun(["sh", "-c", SCRIPT])',
    "starred script": 'run(["sh", "-c", *parts])',
    "entrypoint and command": 'Spec(entrypoint=("/bin/sh",), command=("-c", f"cd {path} && make"))',
    "command line in one f-string": 'exec_run(f"sh -c \'ls {path}\'")',
    "shell=True": 'subprocess.run(cmd, shell=True)',
    "shell=variable": 'subprocess.run(cmd, shell=use_shell)',
    "os.system": 'os.system("ls")',
    "os.popen": 'os.popen(cmd)',
    "getoutput": 'subprocess.getoutput(cmd)',
}
GOOD_SOURCES = {
    "constant with arguments": 'SCRIPT = "git clone -- \\"$1\\" /x"\nrun(["sh", "-c", SCRIPT, "init", repo])',
    "literal script": 'run(["sh", "-c", "trap \'exit 0\' TERM; sleep 1", "x", path])',
    "shell=False": 'subprocess.run(["ls", path], shell=False)',
}


@pytest.mark.parametrize("code", BAD_SOURCES.values(), ids=BAD_SOURCES.keys())
def test_the_shell_checker_catches(code):
    assert shell_problems(Source(code, "bad.py")) != []


@pytest.mark.parametrize("code", GOOD_SOURCES.values(), ids=GOOD_SOURCES.keys())
def test_the_shell_checker_passes(code):
    assert shell_problems(Source(code, "good.py")) == []


def test_the_shell_checker_follows_imported_constants():
    package: dict[str, Source] = {}
    package["symposium_tui.scripts"] = Source('GOOD = "echo \\"$1\\""\nBAD = "echo " + x\n', "scripts.py", package)
    user = Source('from symposium_tui.scripts import GOOD, BAD\nrun(["sh", "-c", GOOD, "n", x])\n'
                  'run(["sh", "-c", BAD, "n", x])\n', "user.py", package)
    assert [p.split(":")[1] for p in shell_problems(user)] == ["3"]


@pytest.mark.parametrize("code, bad", [
    ('run([*self._base(), "--", login, f"podman info {path}"])', "remote command"),
    ('run(["ssh", "--", host, "cat " + path])', "remote command"),
    ('run(["ssh", "-F", cfg, alias])', "before '--'"),
    ('run([ssh, "-o", "BatchMode=yes", host, "true"])', "before '--'"),
    ('run(["ssh", "-F", cfg, "--", alias])', None),
    ('run([*self._base(), "-W", f"127.0.0.1:{port}", "--", login])', None),
    ('run([*self._base(), "--", login, "podman info --format x"])', None),
    ('run([ssh, "-V"])', None),
])
def test_the_ssh_checker(code, bad):
    problems = ssh_problems(Source(code, "x.py"))
    assert (problems == []) if bad is None else (len(problems) == 1 and bad in problems[0]), problems


@pytest.mark.parametrize("code, bad", [
    ('OPTS = ["-o", "StrictHostKeyChecking=no"]', True),
    ('TEXT = "    StrictHostKeyChecking no\\n"', True),
    ('OPTS = ["-o", "UserKnownHostsFile=/dev/null"]', True),
    ('OPTS = ["-o", "StrictHostKeyChecking=accept-new"]', False),
    ('"""Unlike podman-py, which sets StrictHostKeyChecking no."""', False),
])
def test_the_host_key_checker(code, bad):
    assert bool(host_key_problems(Source(code, "x.py"))) is bad


def test_the_unsaved_work_check_runs_no_command_from_the_workspace(tmp_path):
    _need("git", "sh")
    from symposium_tui.core.services.lifecycle import WORK_CHECK_SCRIPT

    repo, marker = tmp_path / "workspace", tmp_path / "ran"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_NOSYSTEM": "1"}
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"], check=True, env=env)
    # What a process in the taskspace (uid 1000, owner of the workspace) can write:
    subprocess.run(["git", "-C", str(repo), "config", "core.fsmonitor", f"touch {marker}; false"],
                   check=True, env=env)
    script = WORK_CHECK_SCRIPT.replace("/workspace", str(repo))
    done = subprocess.run(["sh", "-c", script], check=False, capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:  # not the gap: the script itself broke
        pytest.fail(done.stderr)
    assert not marker.exists(), "git status ran the workspace's core.fsmonitor command"


EVIL_ID = "x\nHost *\n    ProxyCommand touch /tmp/symposium-pwned"


def test_ids_read_back_from_engine_labels_are_valid_ids():
    from symposium_tui.core import labels as L
    from symposium_tui.core.ids import ID_PATTERN
    from symposium_tui.core.models import PodInfo
    from symposium_tui.core.services.lifecycle import group_taskspaces

    groups = group_taskspaces([PodInfo("p", "taskspace-y", "running", L.ours("pod", EVIL_ID)),
                               PodInfo("q", "taskspace-z", "running", L.ours("pod", "../z"))], [])
    assert all(ID_PATTERN.fullmatch(t) for t in groups), sorted(groups)


def test_the_ssh_config_holds_only_valid_ids():
    text = sshconfig.render({EVIL_ID: {"dev_port": 40001}}, Path("/k"), Path("/kh"))
    assert not any(line.strip().startswith("ProxyCommand") for line in text.splitlines()), text


def test_sshd_in_the_images_accepts_only_the_products_key():
    assert _sshd_settings()["AuthorizedKeysFile"] == ["/etc/symposium/authorized_keys"]


def _sshd_settings() -> dict[str, list[str]]:
    lines = (PACKAGE / "images" / "common" / "sshd_config").read_text(encoding="utf-8").splitlines()
    return {line.split()[0]: line.split()[1:] for line in lines if line.strip() and not line.startswith("#")}


def test_sshd_in_the_images_takes_keys_only():
    settings = _sshd_settings()
    assert settings["PasswordAuthentication"] == ["no"] and settings["KbdInteractiveAuthentication"] == ["no"]
    assert settings["PermitRootLogin"] == ["no"]


# -- 1. published ports bind to 127.0.0.1 only -----------------------------------------------------
def test_create_pod_publishes_every_port_on_loopback_only():
    from symposium_tui.backends.podman.specs import PodSpec
    from symposium_tui.core.taskspace import AGENT_SSH_PORT, DEV_SSH_PORT
    from symposium_tui.backends.podman.operations import TaskspaceEngineMixin

    class Recorder(TaskspaceEngineMixin):
        def __init__(self) -> None:
            self.created: dict = {}
            outer = self

            class Pods:
                def create(self, name, **kwargs):
                    outer.created = kwargs

            class Response:
                def json(self):
                    return {"Id": "p1", "Name": "taskspace-x"}

            class Api:
                def get(self, path):
                    return Response()

            self.client = type("Client", (), {"pods": Pods(), "api": Api()})()

        def _call(self, what, fn):
            return fn()

    engine = Recorder()
    engine.create_pod(PodSpec("taskspace-x", "x", {}, (DEV_SSH_PORT, AGENT_SSH_PORT), 2**30, 1000))
    mappings = engine.created["portmappings"]
    assert [m["container_port"] for m in mappings] == [2222, 2223]
    assert all(m["host_ip"] == "127.0.0.1" and m["host_port"] == 0 for m in mappings)


def test_the_only_port_publishing_in_the_code_is_create_pod(package):
    """Nothing else asks podman to publish ports: no other portmappings, publish_all_ports, or ports
    given to a create/run call."""
    sites = []
    for source in package.values():
        for node in ast.walk(source.tree):
            if not isinstance(node, ast.Call):
                continue
            method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            for keyword in node.keywords:
                if keyword.arg in {"portmappings", "publish_all_ports"} or (
                        keyword.arg == "ports" and method in {"create", "run"}):
                    sites.append(_where(source, node))
    assert [s.rsplit(":", 1)[0] for s in sites] == ["symposium_tui/backends/podman/operations.py"], sites


# -- 2. the agent's files on a remote engine: root-owned copies --------------------------------------
def test_copies_for_a_remote_engine_are_root_owned_and_not_writable_by_others(tmp_path):
    from symposium_tui.backends.podman.operations import _tar_of

    auth = tmp_path / "auth"
    auth.mkdir()
    auth.chmod(0o777)
    (auth / "token").write_text("secret\n")
    (auth / "token").chmod(0o666)
    (auth / "helper").write_text("#!/bin/sh\n")
    (auth / "helper").chmod(0o777)
    config = tmp_path / "config.yaml"
    config.write_text("a: 1\n")
    config.chmod(0o666)
    with tarfile.open(fileobj=io.BytesIO(_tar_of({"config.yaml": config, "auth": auth}))) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"config.yaml", "auth", "auth/token", "auth/helper"}
    for member in members.values():
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "root", "root"), member.name
        assert member.mode & 0o022 == 0, (member.name, oct(member.mode))
    assert members["auth/helper"].mode & 0o111 == 0o111  # an executable stays executable


def test_the_agent_does_not_own_the_directory_of_its_read_only_files():
    text = (PACKAGE / "images" / "layer" / "install.sh").read_text(encoding="utf-8")
    words = text.replace("\\\n", " ").replace("&&", "\n").split("\n")
    chowns = [command.split() for command in words if command.split()[:1] == ["chown"]]
    assert chowns  # the workspace and the agent's state are the container user's
    for parts in chowns:
        assert "/agent" not in parts, parts
    assert "chmod 0755 /agent" in text


# -- 4. the product's key and SSH config files are 0600 ---------------------------------------------
def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request) -> Iterator[int]:
    """The modes must not depend on a careful umask."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _paths(tmp_path: Path) -> AppPaths:
    return AppPaths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", state_dir=tmp_path / "state",
                    cache_dir=tmp_path / "cache", log_dir=tmp_path / "log", runtime_dir=tmp_path / "run")


def test_the_products_ssh_key_is_private(tmp_path, umask):
    _need("ssh-keygen")
    from symposium_tui.core.keys import ensure_key

    paths = _paths(tmp_path)
    public = ensure_key(paths.ssh_key)
    assert _mode(paths.ssh_key) == 0o600
    assert _mode(paths.ssh_key.parent) == 0o700
    assert _mode(public) & 0o022 == 0 and public.read_text().startswith("ssh-ed25519 ")


def test_ssh_config_files_are_0600(tmp_path, umask):
    from symposium_tui.core.config import Settings
    from symposium_tui.core.services.context import LifecycleContext

    paths = _paths(tmp_path)
    entries = {"fix-1": {"dev_port": 40001, "agent_port": 40002}}
    LifecycleContext(backend=None, paths=paths, settings=Settings()).write_ssh_config(entries)
    assert _mode(paths.main_ssh_config) == 0o600
    remote = LifecycleContext(backend=None, paths=paths, settings=Settings(), host="box2",
                              jump=sshconfig.Jump("box2", "10.0.0.7"))
    remote.write_ssh_config(entries)
    assert _mode(paths.ssh_config_dir / "box2.conf") == 0o600

    fresh = _paths(tmp_path / "fresh")
    LifecycleContext(backend=None, paths=fresh, settings=Settings(), host="box2",
                     jump=sshconfig.Jump("box2", "10.0.0.7")).write_ssh_config(entries)
    assert _mode(fresh.main_ssh_config) == 0o600  # made by ensure_main
    assert "Include" in fresh.main_ssh_config.read_text()

    direct = tmp_path / "direct" / "ssh_config"
    sshconfig.write(direct, entries, Path("/k"), Path("/kh"))
    assert _mode(direct) == 0o600
    changed = {"fix-1": {"dev_port": 40003, "agent_port": 40004}}
    sshconfig.write(direct, changed, Path("/k"), Path("/kh"))
    assert _mode(direct) == 0o600 and "40003" in direct.read_text()
    main = tmp_path / "main" / "ssh_config"
    sshconfig.ensure_main(main, "/c/ssh_config.d/*.conf")
    assert _mode(main) == 0o600


def test_known_hosts_rewritten_by_forget_host_keys_is_0600(tmp_path, umask):
    known = tmp_path / "known_hosts"
    known.write_text("a-dev ssh-ed25519 AAAA1\nb-dev ssh-ed25519 AAAA2\n")
    known.chmod(0o644)
    sshconfig.forget_host_keys(known, "a")
    assert known.read_text() == "b-dev ssh-ed25519 AAAA2\n"
    assert _mode(known) == 0o600


def test_an_existing_ssh_config_with_the_same_entries_becomes_0600(tmp_path):
    path = tmp_path / "ssh_config"
    entries = {"fix-1": {"dev_port": 40001}}
    path.write_text(sshconfig.render(entries, Path("/k"), Path("/kh")))
    path.chmod(0o644)
    sshconfig.write(path, entries, Path("/k"), Path("/kh"))
    assert _mode(path) == 0o600


# -- 5. host keys: pinned per taskspace, engine hosts checked ----------------------------------------
def _blocks(text: str) -> dict[str, dict[str, str]]:
    blocks: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if line.startswith("Host "):
            current = blocks.setdefault(line.split(None, 1)[1], {})
        elif line.startswith("    ") and current is not None:
            key, _, value = line.strip().partition(" ")
            current[key] = value
    return blocks


@pytest.mark.parametrize("host, jump", [("local", None),
                                        ("box2", sshconfig.Jump("box2", "10.0.0.7", 2222, "core", "/keys/b"))])
def test_every_ssh_entry_pins_its_host_key(tmp_path, host, jump):
    known = tmp_path / "data" / "ssh" / "known_hosts"
    entries = {f"t{n}": {"dev_port": 40000 + n, "agent_port": 41000 + n} for n in range(5)}
    text = sshconfig.render(entries, tmp_path / "id_ed25519", known, host=host, jump=jump)
    blocks = _blocks(text)
    aliases = {sshconfig.host_alias(t, role, host) for t in entries for role in ("dev", "agent")}
    assert aliases <= set(blocks)
    for alias in aliases:
        entry = blocks[alias]
        assert entry["HostKeyAlias"] == alias
        assert entry["UserKnownHostsFile"] == str(known)
        assert entry["StrictHostKeyChecking"] == "accept-new"
        assert entry["HostName"] == "127.0.0.1"
    if jump is not None:
        assert blocks[jump.alias]["StrictHostKeyChecking"] == "accept-new"
        assert blocks[jump.alias]["UserKnownHostsFile"].split()[0] == str(known)
    assert "/dev/null" not in text and "StrictHostKeyChecking no" not in text
    # ssh reads them so.
    _need("ssh")
    config = tmp_path / "ssh_config"
    config.write_text(text)
    alias = sshconfig.host_alias("t3", "agent", host)
    resolved = subprocess.run(["ssh", "-G", "-F", str(config), alias], capture_output=True, text=True,
                              check=True).stdout.splitlines()
    assert f"hostkeyalias {alias}" in resolved
    assert "stricthostkeychecking accept-new" in resolved
    assert f"userknownhostsfile {known}" in resolved


def test_engine_host_ssh_options_check_host_keys(tmp_path):
    from symposium_tui.backends.podman.tunnel import ssh_options

    known = tmp_path / "known_hosts"
    for identity in (None, "/keys/box2"):
        options = ssh_options(identity, known)
        pairs = [options[i + 1] for i, o in enumerate(options) if o == "-o"]
        assert "StrictHostKeyChecking=accept-new" in pairs
        assert not any(p.lower().replace(" ", "=") in ("stricthostkeychecking=no", "stricthostkeychecking=off")
                       for p in pairs)
        known_files = next(p for p in pairs if p.startswith("UserKnownHostsFile="))
        assert known_files.split("=", 1)[1].split()[0] == str(known)  # new keys are pinned here
        assert "/dev/null" not in " ".join(options)
        assert "BatchMode=yes" in pairs  # never a prompt to accept a key


class _FakeTunnel:
    made: ClassVar[list[str]] = []

    def __init__(self, uri, *, identity, known_hosts, runtime_dir, name=""):
        _FakeTunnel.made.append(uri)
        self.uri = f"unix://{runtime_dir}/forwarded.sock"
        self.remote_uri = uri

    def start(self):
        return self

    def ensure(self):
        pass

    def close(self):
        pass


@pytest.fixture
def podman_clients(monkeypatch):
    """The base URLs the product hands podman-py (which would use its own SSH adapter for ssh)."""
    import podman

    seen: list[str] = []

    class Client:
        def __init__(self, base_url, **kwargs):
            seen.append(base_url)

        def ping(self):
            return True

        def close(self):
            pass

    monkeypatch.setattr(podman, "PodmanClient", Client)
    monkeypatch.setattr("symposium_tui.backends.podman.session.SshTunnel", _FakeTunnel)
    for var in ("CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINER_SSHKEY"):
        monkeypatch.delenv(var, raising=False)
    _FakeTunnel.made = []
    return seen


def test_ssh_engines_go_through_our_own_ssh_not_podman_py(podman_clients, tmp_path, monkeypatch):
    from symposium_tui.backends.podman.session import connect

    uri = "ssh://core@box2.example:22/run/podman/podman.sock"
    for how in ("url", "env"):
        if how == "env":
            monkeypatch.setenv("CONTAINER_HOST", uri)
        conn = connect(uri if how == "url" else None, paths=_paths(tmp_path), embedded=False)
        assert conn.target.uri == uri
    assert _FakeTunnel.made == [uri, uri]
    assert podman_clients and all(url.startswith("unix://") for url in podman_clients), podman_clients


def test_no_engine_url_reaches_podman_py_s_ssh_adapter(podman_clients, tmp_path, monkeypatch):
    from symposium_tui.backends.podman.session import connect

    monkeypatch.setenv("CONTAINER_HOST", "http+ssh://core@box2.example/run/podman/podman.sock")
    monkeypatch.setenv("CONTAINERS_CONF", str(tmp_path / "none.conf"))
    try:
        connect(None, paths=_paths(tmp_path), embedded=False)
    except UsageError:
        return
    assert not any("ssh" in url.split("://", 1)[0] for url in podman_clients), podman_clients


def test_a_jump_identity_cannot_add_lines_to_the_ssh_config():
    from symposium_tui.core.errors import SymposiumError

    for identity in ("/k\n    ProxyCommand touch /tmp/symposium-pwned", "/k\tx", '/k"'):
        jump = sshconfig.Jump("box2", "10.0.0.7", identity=identity)
        with pytest.raises(SymposiumError, match="not allowed in host names, users and key paths"):
            sshconfig.render({"a": {"dev_port": 1}}, Path("/k"), Path("/kh"), host="box2", jump=jump)


# -- 5. with real ssh: keys are pinned, a changed key is refused ------------------------------------
@pytest.fixture
def sshd(tmp_path):
    """A private sshd on 127.0.0.1 (engine/sshd.py, as the host tests use); its key can be changed."""
    _need("ssh", "sshd", "ssh-keygen")
    if os.geteuid() != 0:
        pytest.skip("the loopback sshd needs root (/run/sshd)")
    from testbed.sshd import LoopbackSshd

    server = LoopbackSshd(tmp_path / "sshd").start()

    def new_host_key() -> None:
        server.stop()
        for key in (server.host_key, server.host_key.with_name(server.host_key.name + ".pub")):
            key.unlink()
        server.start()

    server.new_host_key = new_host_key
    yield server
    server.stop()


def test_an_engine_hosts_key_is_pinned_and_a_changed_key_is_refused(sshd, tmp_path):
    from symposium_tui.backends.podman.tunnel import SshTunnel

    known = tmp_path / "data" / "ssh" / "known_hosts"
    uri = sshd.uri(str(tmp_path / "podman.sock"))

    def tunnel() -> SshTunnel:
        return SshTunnel(uri, identity=str(sshd.client_key), known_hosts=known, runtime_dir=tmp_path / "run")

    first = tunnel()
    try:
        first.start()
        assert first.alive()
        assert _mode(first.dir) == 0o700  # the forwarded engine socket is ours alone
        assert _mode(known.parent) == 0o700
        pinned = known.read_text()
        assert pinned.count("ssh-ed25519") == 1
    finally:
        first.close()
    again = tunnel()
    try:
        again.start()  # the same key: accepted without a prompt
    finally:
        again.close()
    sshd.new_host_key()
    changed = tunnel()
    try:
        with pytest.raises(EngineUnavailable, match="Host key verification failed"):
            changed.start()
    finally:
        changed.close()
    assert known.read_text() == pinned  # the pinned key was not replaced


def _ssh(config: Path, alias: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", "-F", str(config), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", *extra,
                           "--", alias, "true"], check=False, capture_output=True, text=True, timeout=30)


def _taskspace_config(sshd, tmp_path: Path) -> tuple[Path, Path]:
    known = tmp_path / "data" / "ssh" / "known_hosts"
    known.parent.mkdir(parents=True, mode=0o700)
    config = tmp_path / "ssh_config"
    # Both taskspaces on the one port: as when podman gives a removed taskspace's port to a new one.
    sshconfig.write(config, {"ts": {"dev_port": sshd.port}, "other": {"dev_port": sshd.port}},
                    sshd.client_key, known)
    return config, known


def test_taskspace_keys_are_pinned_per_alias_refused_when_changed_and_forgotten(sshd, tmp_path):
    config, known = _taskspace_config(sshd, tmp_path)
    first = _ssh(config, "ts-dev")  # the login is refused (no user developer here); the key is pinned
    assert "Host key verification failed" not in first.stderr
    assert [line.split()[0] for line in known.read_text().splitlines()] == ["ts-dev"]

    sshd.new_host_key()  # another server now answers on ts-dev's port
    refused = _ssh(config, "ts-dev")
    assert refused.returncode != 0 and "Host key verification failed" in refused.stderr
    # A taskspace seen for the first time trusts its first key (TOFU), under its own alias.
    other = _ssh(config, "other-dev")
    assert "Host key verification failed" not in other.stderr
    assert sorted(line.split()[0] for line in known.read_text().splitlines()) == ["other-dev", "ts-dev"]

    sshconfig.forget_host_keys(known, "ts")  # what rm and create do
    again = _ssh(config, "ts-dev")
    assert "Host key verification failed" not in again.stderr
    assert sorted(line.split()[0] for line in known.read_text().splitlines()) == ["other-dev", "ts-dev"]


def test_hashed_pins_are_forgotten_too(sshd, tmp_path):
    config, known = _taskspace_config(sshd, tmp_path)
    _ssh(config, "ts-dev", "-o", "HashKnownHosts=yes")  # as /etc/ssh/ssh_config on Debian
    if not known.read_text().startswith("|1|"):
        pytest.fail("ssh did not hash the pinned key")
    sshconfig.forget_host_keys(known, "ts")
    found = subprocess.run(["ssh-keygen", "-F", "ts-dev", "-f", str(known)], check=False, capture_output=True,
                           text=True)
    assert found.returncode != 0, "the hashed key of ts-dev is still pinned"


def test_known_hosts_made_by_ssh_is_0600(sshd, tmp_path):
    old = os.umask(0o022)
    try:
        config, known = _taskspace_config(sshd, tmp_path)
        _ssh(config, "ts-dev")
    finally:
        os.umask(old)
    if not known.exists():
        pytest.fail("ssh pinned no key")
    assert _mode(known) == 0o600, oct(_mode(known))
