"""The short load and fault run (bench/load.py --short) on the suite's database: 24 agents for 30 s
with nothing lost, then a gunicorn worker killed mid-submit with nothing half-done. The full run
(200 agents for 5 minutes) is `make load`."""
from __future__ import annotations

import os
import subprocess
import sys

from lms.config import PROJECT_ROOT


def test_the_short_load_run_loses_nothing_and_survives_a_killed_worker():
    database = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    result = subprocess.run([sys.executable, "bench/load.py", "--short", "--database", database], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=600)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert f"PASS  [{database}] L1 many agents at once" in report
    assert f"PASS  [{database}] L2 worker killed mid-submit" in report
    assert "acknowledged submits checked in the database" in report
