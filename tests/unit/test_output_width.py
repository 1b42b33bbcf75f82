"""Tables fit the terminal: empty columns go first, then the least useful ones, then one is cut."""

from symposium_tui.cli.health import HEALTH_DROP, HEALTH_HEADERS
from symposium_tui.cli.output import table
from symposium_tui.cli.taskspaces import LS_DROP, LS_HEADERS

LS_ROW = ["fix-login-2", "web-shop", "taskspace/fix-login-2", "python+rust", "degraded (dev exited (exit code 137))",
          "running · progress: reading", "34335", "41281", "default",
          "restricted", "52M/2G", "3 minutes ago", "2 minutes ago", "in 1.5h", ""]
HEALTH_ROW = ["fix-login-2", "degraded", "dev exited (exit code 137); dev auto-restart failed: podman refused "
              "to restart container: cpu.cfs_quota_us: invalid argument", "idle", "34335", "41281", "95M/4G",
              "52M/2G", "2 minutes ago"]


def test_ls_at_80_columns_keeps_id_and_status_and_drops_the_least_useful_first():
    text = table([LS_ROW, LS_ROW], LS_HEADERS, LS_DROP, "STATUS", width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), text
    header = lines[0].split()
    assert header[:2] == ["ID", "PROJECT"] and "STATUS" in header and "STORAGE" in header
    assert "DRIFT" not in header and "CREATED" not in header and "AGT" not in header  # gone first
    assert "STOPS" not in header
    wide = table([LS_ROW], LS_HEADERS, LS_DROP, "STATUS", width=240)
    assert wide.splitlines()[0].split() == LS_HEADERS  # it fits: nothing goes


def test_without_a_width_every_column_stays_for_scripts():
    text = table([LS_ROW], LS_HEADERS, LS_DROP, "STATUS", width=None)
    assert text.splitlines()[0].split() == LS_HEADERS


def test_health_at_80_columns_cuts_the_reason_last():
    text = table([HEALTH_ROW], HEALTH_HEADERS, HEALTH_DROP, "REASON", width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), text
    assert lines[0].split()[:3] == ["ID", "HEALTH", "REASON"]
    assert lines[1].rstrip().endswith("…") or "…" in lines[1]
    assert "ACTIVITY" not in lines[0]
    narrow = table([HEALTH_ROW], HEALTH_HEADERS, HEALTH_DROP, "REASON", width=40)
    assert all(len(line) <= 40 for line in narrow.splitlines()), narrow
