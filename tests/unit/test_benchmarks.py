"""The benchmark report's arithmetic (the measurements themselves run with `python -m benchmarks`)."""

from benchmarks.__main__ import markdown
from benchmarks.common import Result


def test_ratios_and_targets():
    faster = Result("g", "ours", 1.0, "theirs", 4.0, "<= 0.33x", limit=1 / 3)
    assert faster.ratio == 0.25 and faster.met is True
    slower = Result("g", "ours", 3.0, "theirs", 2.0, "<= 1.0x", limit=1.0)
    assert slower.ratio == 1.5 and slower.met is False
    absolute = Result("g", "rss", 81.0, "", 0.0, "<= 150 MB", unit="MB", limit=150.0)
    assert absolute.ratio is None and absolute.met is True
    assert absolute.row()[2] == "81 MB" and absolute.row()[5] == "-"
    assert slower.row()[5] == "1.50x" and slower.row()[6].endswith("MISSED")


def test_the_report_names_the_machine_and_every_result():
    text = markdown([Result("create", "product create", 0.9, "seed script", 3.2, "<= 0.33x", limit=1 / 3)],
                    5, 600.0, "notes here")
    assert text.startswith("# Benchmarks") and "median of 5 runs" in text and "podman" in text
    assert "| create | product create | 900 ms | seed script | 3200 ms | 0.28x | <= 0.33x met |" in text
    assert text.rstrip().endswith("notes here")
