"""Export SVG screenshots of the dashboard from a real run against an isolated podman engine.

    .venv/bin/python scripts/screenshots.py

Writes screenshots/*.svg. The engine is private (never your own pods) and removed afterwards.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from symposium_tui.engine.isolated import IsolatedEngine  # noqa: E402
from symposium_tui.ui.app import SymposiumApp  # noqa: E402

OUT = REPO / "screenshots"


async def capture(uri: str) -> None:
    app = SymposiumApp(uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot("dashboard.svg", str(OUT))
        await pilot.press("question_mark")
        await pilot.pause()
        app.save_screenshot("keys.svg", str(OUT))
    app.close_engine()


def main() -> int:
    OUT.mkdir(exist_ok=True)
    iso = IsolatedEngine().start()
    try:
        asyncio.run(capture(iso.uri))
    finally:
        iso.destroy()
    for svg in sorted(OUT.glob("*.svg")):
        print(svg.relative_to(REPO))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
