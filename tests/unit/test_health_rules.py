from symposium_tui.core.health import HealthFacts, HealthState, evaluate
from symposium_tui.core.models import ContainerInfo, ContainerState, ContainerStats
from symposium_tui.core.restarts import RestartBook, RestartPolicy
from symposium_tui.core.stats import StatsHistory, cpu_cores


def ctr(state: str, code: int | None = None) -> ContainerInfo:
    return ContainerInfo(id=state, name=state, image="", state=ContainerState(state), exit_code=code)


def facts(**kw):
    base = dict(pod_exists=True, containers={"agent": ctr("running"), "dev": ctr("running")},
                ssh_ok={"agent": True, "dev": True})
    base.update(kw)
    return HealthFacts(**base)


def test_healthy():
    assert evaluate(facts()).state is HealthState.HEALTHY


def test_ssh_not_answering_is_degraded_with_reason():
    health = evaluate(facts(ssh_ok={"agent": True, "dev": False}))
    assert health.state is HealthState.DEGRADED and health.reason == "dev SSH not answering on 127.0.0.1"


def test_dead_container_is_degraded_and_both_dead_is_down():
    one = evaluate(facts(containers={"agent": ctr("running"), "dev": ctr("exited", 137)}))
    assert one.state is HealthState.DEGRADED and one.reason == "dev exited (exit code 137)"
    both = evaluate(facts(containers={"agent": ctr("exited", 1), "dev": ctr("exited", 1)}))
    assert both.state is HealthState.DOWN


def test_pod_gone_creating_and_stopped_on_purpose():
    assert evaluate(facts(pod_exists=False)).state is HealthState.DOWN
    assert evaluate(facts(creating=True)).state is HealthState.CREATING
    stopped = evaluate(facts(containers={"agent": ctr("exited", 0), "dev": ctr("exited", 0)},
                             stopped_by_user=True))
    assert stopped.state is HealthState.STOPPED and stopped.state.ok


def test_gave_up_shows_in_the_reason():
    health = evaluate(facts(containers={"agent": ctr("running"), "dev": ctr("exited", 1)},
                            gave_up={"dev": "auto-restart gave up after 5 restarts in 10 minutes"}))
    assert "gave up" in health.reason


def test_backoff_grows_and_gives_up(tmp_path):
    policy = RestartPolicy(base_delay=1, factor=2, max_delay=100, max_attempts=3, window=60)
    book = RestartBook(tmp_path / "restarts.json", policy)
    died = 1000.0
    assert book.decide("c", died, 1000.5).action == "wait"
    assert book.decide("c", died, 1001.0).action == "restart"
    book.record("c", 1001.0)
    assert book.decide("c", 1001.1, 1002.0).action == "wait"  # 2 s after the last attempt
    assert book.decide("c", 1001.1, 1003.2).action == "restart"  # 2 s after the latest death
    book.record("c", 1003.2)
    assert book.decide("c", 1003.3, 1007.0).action == "wait"
    assert book.decide("c", 1003.3, 1007.4).action == "restart"  # then 4 s
    book.record("c", 1007.4)
    gave_up = book.decide("c", 1007.1, 1100.0 - 40)
    assert gave_up.action == "give-up" and "3 restarts" in gave_up.reason
    # Attempts expire with the window; another process sees the same book.
    assert RestartBook(tmp_path / "restarts.json", policy).decide("c", 1007.1, 1200.0).action == "restart"


def raw(cpu_nano: int, system_nano: int, cid: str = "x") -> ContainerStats:
    return ContainerStats(id=cid, name="n", cpu_nano=cpu_nano, system_nano=system_nano, mem_usage=10,
                          mem_limit=100, net_in=0, net_out=0, pids=1)


def test_cpu_from_deltas_and_quota():
    assert cpu_cores(None, raw(0, 0)) is None
    assert cpu_cores(raw(0, 0), raw(500_000_000, 1_000_000_000)) == 0.5
    assert cpu_cores(raw(0, 0, "a"), raw(5, 10, "b")) is None  # a new container: no delta
    history = StatsHistory(size=3)
    assert history.add("n", raw(0, 0), 2000, 4096, 0.0) is None
    sample = history.add("n", raw(1_000_000_000, 1_000_000_000), 2000, 4096, 1.0)
    assert sample.cpu_percent == 50.0 and sample.mem_limit == 4096


def test_history_is_bounded():
    history = StatsHistory(size=3)
    for n in range(10):
        history.add("n", raw(n * 10, n * 100), 1000, 0, float(n))
    assert [s.time for s in history.samples("n")] == [7.0, 8.0, 9.0]
    history.forget_except(set())
    assert history.samples("n") == []


def test_a_log_line_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    import os

    import pytest

    from symposium_tui.core.errors import SymposiumError
    from symposium_tui.core.health import append_jsonl

    log = tmp_path / "logs" / "health.log"
    append_jsonl(log, {"n": 1})
    whole = log.read_bytes()
    real_write = os.write
    # The disk takes only part of the next line (what a full disk does to a write).
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:5]))
    with pytest.raises(SymposiumError, match="cannot write the log .*health.log: the disk took only part"):
        append_jsonl(log, {"n": 2, "text": "x" * 100})
    assert log.read_bytes() == whole  # the torn half line was taken back

    def refuse(fd, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "write", refuse)
    with pytest.raises(SymposiumError, match="No space left on device"):
        append_jsonl(log, {"n": 3})
    assert log.read_bytes() == whole
    assert oct(log.stat().st_mode & 0o777) == oct(0o600)


def test_an_auto_restart_that_failed_is_said_with_the_engines_reason():
    health = evaluate(facts(containers={"agent": ctr("running"), "dev": ctr("exited", 137)},
                            restart_failed={"dev": "cpu.cfs_quota_us: invalid argument"}))
    assert health.state is HealthState.DEGRADED and not health.state.ok
    assert health.reason == "dev exited (exit code 137); dev auto-restart failed: cpu.cfs_quota_us: invalid argument"
    gave_up = evaluate(facts(containers={"agent": ctr("running"), "dev": ctr("exited", 1)},
                             restart_failed={"dev": "x"}, gave_up={"dev": "gave up after 3 restarts"}))
    assert "auto-restart failed" not in gave_up.reason  # giving up says it already


def test_the_history_can_be_read_by_one_thread_while_another_adds():
    """The poller's thread adds samples while a screen copies them."""
    import threading

    history = StatsHistory(size=50)
    stop = threading.Event()
    errors: list[BaseException] = []

    def add() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            raw = ContainerStats("a", "a", n * 10**8, n * 10**9, 1, 1, 0, 0, 1)
            history.add("a", raw, 1000, 0, float(n))
            if n % 7 == 0:
                history.forget_except({"a"})

    def read() -> None:
        try:
            for _ in range(20000):
                history.samples("a")
        except BaseException as exc:  # noqa: BLE001 - the assertion below says which
            errors.append(exc)

    writer = threading.Thread(target=add)
    writer.start()
    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    stop.set()
    writer.join()
    assert errors == [] and len(history.samples("a")) == 50
