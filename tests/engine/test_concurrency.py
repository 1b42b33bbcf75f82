"""Five processes at once creating and removing ten taskspaces at random for half a minute, through the
CLI on the real isolated engine: afterwards the engine holds exactly what the last successful
operation of each id says, and the registry and SSH config match the engine."""

from __future__ import annotations

import json
import random
import re
import threading
import time

import pytest

from tests.engine.conftest import inventory
from tests.helpers import run_cli

pytestmark = pytest.mark.engine

WORKERS = 5
IDS = [f"conc-{n:02d}" for n in range(10)]
DURATION = 30.0
EXPECTED_REFUSALS = ("already exists", "is busy: another command", "no taskspace", "is not a taskspace",
                     "does not exist", "not found")


def port_forwards(network: str) -> set[int]:
    """Host ports the engine's backend forwards into NETWORK (netavark's or CNI's rules)."""
    from testbed.isolated import forwarded_ports

    return forwarded_ports(network)


def test_five_processes_creating_and_removing_at_random(isolated, ctx, repo):
    results: list[tuple[float, str, str, int, str]] = []  # (ended, action, id, exit code, stderr)
    lock = threading.Lock()
    deadline = time.monotonic() + DURATION

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            taskspace = rng.choice(IDS)
            if rng.random() < 0.55:
                args = ["create", taskspace, "--repo", str(repo), "--json"]
            else:
                args = ["rm", taskspace, "--force", "--purge-state", "--json"]
            result = run_cli("--url", isolated.uri, *args, timeout=300)
            with lock:
                results.append((time.monotonic(), args[0], taskspace, result.returncode, result.stderr))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert all(code in (0, 1) for _, _, _, code, _ in results), [r for r in results if r[3] not in (0, 1)]
        assert not [r for r in results if "Traceback" in r[4]]
        failures = [r for r in results if r[3] == 1]
        unexpected = [r for r in failures if not any(text in r[4] for text in EXPECTED_REFUSALS)]
        assert not unexpected, "\n\n".join(f"{action} {taskspace}:\n{stderr}"
                                            for _, action, taskspace, _, stderr in unexpected[:3])
        succeeded = [r for r in results if r[3] == 0]
        assert sum(1 for r in succeeded if r[1] == "create") >= 8, "too few creates to prove anything"
        assert sum(1 for r in succeeded if r[1] == "rm") >= 4
        print(f"FIGURE {len(results)} operations by {WORKERS} processes in {DURATION:.0f} s: "
              f"{sum(1 for r in succeeded if r[1] == 'create')} creates and "
              f"{sum(1 for r in succeeded if r[1] == 'rm')} removals succeeded, {len(failures)} refused "
              "(already exists, busy, no such taskspace); no other failure")

        # Each id is there exactly when its last successful operation was a create (operations on
        # one id are serialised by its lock, so their end times are in that order).
        last: dict[str, str] = {}
        for _, action, taskspace, _, _ in sorted(succeeded):
            last[taskspace] = action
        expected = {t for t, action in last.items() if action == "create"}
        found = inventory(isolated)
        pods = {p.removeprefix("taskspace-") for p in found["pods"] if p.startswith("taskspace-conc-")}
        assert pods == expected
        containers = {c for c in found["containers"] if c.startswith("taskspace-conc-")}
        assert containers == {f"taskspace-{t}-{role}" for t in expected for role in ("agent", "dev")}
        volumes = {v for v in found["volumes"] if v.startswith("taskspace-conc-")}
        assert volumes == {f"taskspace-{t}-{role}" for t in expected for role in
                           ("project-disk", "project", "workspace", "build-cache", "agent-state")}
        assert not list((ctx.paths.state_dir / "creating").glob("conc-*.json"))

        # The registry and the SSH config agree with the engine, ports included.
        registry = {t: e for t, e in ctx.registry.read().items() if t.startswith("conc-")}
        assert set(registry) == expected
        listed = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)
        ports = {t["id"]: (t["dev_port"], t["agent_port"]) for t in listed["taskspaces"] if t["id"] in expected}
        assert {t: (e["dev_port"], e["agent_port"]) for t, e in registry.items()} == ports
        config = ctx.paths.ssh_config.read_text()
        hosts = set(re.findall(r"^Host (conc-\d\d)-(dev|agent)$", config, re.M))
        assert hosts == {(t, role) for t in expected for role in ("dev", "agent")}
        for taskspace, (dev, agent) in ports.items():
            block = config.split(f"Host {taskspace}-dev\n", 1)[1].split("\n\n", 1)[0]
            assert f"Port {dev}" in block
        # No port forward outlives its pod: a stale one would capture a port handed out later.
        assert port_forwards(isolated.network) == {port for pair in ports.values() for port in pair}
        print(f"FIGURE final: {len(expected)} taskspaces; engine, registry, SSH config and port forwards agree")
    finally:
        for taskspace in IDS:
            run_cli("--url", isolated.uri, "rm", taskspace, "--force", "--purge-state")
