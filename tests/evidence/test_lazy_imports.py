"""Loading the app does not load WeasyPrint or pyHanko (#20): only rendering and signing pay for them.

Run in a fresh interpreter, since other tests in this process import both long before this one runs.
"""
from __future__ import annotations

import json
import subprocess
import sys

from lms.config import PROJECT_ROOT

_PROBE = """
import json, sys
import lms
lms.create_app({"TESTING": True})
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("weasyprint", "pyhanko"))))
"""


def test_create_app_imports_neither_weasyprint_nor_pyhanko():
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=120, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == []
