"""The two checkers, from npm at the versions package-lock.json pins: axe-core (run in the browser)
and the Nu HTML Checker (vnu.jar, run with the machine's java on the saved pages).

`npm ci` installs them into tests/accessibility/node_modules when it is missing (.ci/run does the
same before the suite). `--ignore-scripts`: vnu-jar's install script would fetch a Java runtime of
its own, and the machine's java runs the jar.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
AXE_SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = HERE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _unavailable(reason: str) -> None:
    if os.environ.get("LMS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the accessibility checkers are required here but cannot run: {reason}")
    pytest.skip(f"accessibility crawl skipped: {reason}")


def install() -> None:
    """`npm ci` from the pinned package-lock.json when a checker is missing; java must be there."""
    if shutil.which("java") is None:
        _unavailable("java not found (it runs the Nu HTML Checker)")
    if AXE_SCRIPT.is_file() and VNU_JAR.is_file():
        return
    if shutil.which("npm") is None:
        _unavailable("npm not found (it installs axe-core and vnu-jar)")
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                   timeout=600, stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class HtmlError:
    file: Path
    line: int | None
    message: str


def html_errors(files: list[Path]) -> list[HtmlError]:
    """Every error the Nu HTML Checker finds in these files, in one run (the JVM starts once)."""
    if not files:
        return []
    run = subprocess.run(["java", "-jar", str(VNU_JAR), "--format", "json", "--errors-only",
                          *map(str, files)], capture_output=True, text=True, timeout=900)
    try:
        messages = json.loads(run.stderr)["messages"]  # vnu writes its report to standard error
    except (ValueError, KeyError):
        raise AssertionError(f"the Nu HTML Checker failed (exit {run.returncode}): {run.stderr[-2000:]}") from None
    return [HtmlError(Path(m["url"].removeprefix("file:")), m.get("lastLine"), m["message"])
            for m in messages if m.get("type") in ("error", "non-document-error")]
