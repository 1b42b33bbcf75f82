"""Export SVG screenshots of the dashboard from a real run: an isolated podman engine (never your
own pods) with the product's images and three taskspaces, removed afterwards.

    .venv/bin/python scripts/screenshots.py

Writes screenshots/*.svg.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from demo_engine import start, start_remote  # noqa: E402

OUT = REPO / "screenshots"


async def until(pilot, predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        await pilot.pause(0.2)


async def capture(uri: str, engine_cli) -> None:  # noqa: ANN001
    from symposium_tui.ui.app import SymposiumApp

    app = SymposiumApp(uri, interval=1.0)
    async with app.run_test(size=(170, 32)) as pilot:  # wide enough for every column
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.taskspaces) == 3)
        engine_cli("exec", "-d", "taskspace-fix-login-2-dev", "sh", "-c",
                   "timeout 20 sh -c 'while :; do :; done'")
        engine_cli("exec", "taskspace-fix-login-2-dev", "sh", "-c",
                   "echo 'building web-shop… 42 tests passed' > /proc/1/fd/1")
        engine_cli("exec", "-u", "1000", "-w", "/workspace", "taskspace-fix-login-2-dev", "sh", "-c",
                   "printf 'def total(items):\\n    return round(sum(items), 2)\\n' > cart.py && git add cart.py && "
                   "git -c user.name=agent -c user.email=agent@example.com commit -qm 'Round cart totals to cents' "
                   "&& echo '- totals are rounded to cents' >> README.md")
        await pilot.pause(8)  # a few ticks of stats history
        app.save_screenshot("dashboard.svg", str(OUT))
        await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause(3)
        app.save_screenshot("details.svg", str(OUT))
        await pilot.press("l")
        await pilot.pause(3)
        app.save_screenshot("logs.svg", str(OUT))
        await pilot.press("escape", "escape")
        await pilot.press("D")
        await pilot.pause(4)
        app.save_screenshot("changes.svg", str(OUT))
        await pilot.press("escape")
        engine_cli("exec", "taskspace-fix-login-2-dev", "sh", "-c", "echo draft > /workspace/notes.txt")
        await pilot.press("C")
        await pilot.pause(2)
        from textual.widgets import Checkbox, Input

        # these taskspaces are all a minute old and running: a plan with them in it
        app.screen.query_one("#inactive", Input).value = "0s"
        app.screen.query_one("#running", Checkbox).value = True  # re-plans
        await pilot.pause(5)
        await pilot.press("down")
        await pilot.pause(0.5)
        app.save_screenshot("cleanup.svg", str(OUT))
        await pilot.press("escape")
        await pilot.press("n")
        await pilot.pause(1)
        await pilot.press(*"Fix_Login")
        app.save_screenshot("create.svg", str(OUT))
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause(0.5)
        app.save_screenshot("keys.svg", str(OUT))
        await pilot.press("escape", "q")
    app.close_engine()


async def capture_hosts(sshd) -> None:  # noqa: ANN001
    """This machine's engine and a second host over SSH: the all-hosts list, the switcher, and the
    list while the second host does not answer."""
    from symposium_tui.ui.app import SymposiumApp

    app = SymposiumApp(interval=1.0)
    async with app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: all(s.snapshot is not None and s.snapshot.taskspaces
                                       for s in app.hosts.values()), 60)
        await pilot.pause(6)
        app.save_screenshot("hosts.svg", str(OUT))
        await pilot.press("H")
        await pilot.pause(0.5)
        app.save_screenshot("host-switcher.svg", str(OUT))
        await pilot.press("escape")
        sshd.stop()
        await until(pilot, lambda: not app.hosts["buildbox"].ok, 30)
        await pilot.pause(1)
        app.save_screenshot("host-down.svg", str(OUT))
        await pilot.press("q")
    app.close_engine()


def main() -> int:
    import os

    OUT.mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="symposium-shots-"))
    iso = start(home)
    remote, sshd = None, None
    try:
        asyncio.run(capture(iso.uri, iso.cli))
        remote, sshd = start_remote(home)
        os.environ["CONTAINER_HOST"] = iso.uri  # "local" is the demo engine, never your own
        asyncio.run(capture_hosts(sshd))
    finally:
        if sshd is not None:
            sshd.stop()
        if remote is not None:
            remote.destroy()
        iso.destroy()
        shutil.rmtree(home, ignore_errors=True)  # its config, state and keys
    for svg in sorted(OUT.glob("*.svg")):
        print(svg.relative_to(REPO))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
