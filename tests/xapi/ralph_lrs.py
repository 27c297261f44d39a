"""A real learning record store: Ralph with its file-system backend, in .venv-ralph.

The tests start one per session (tests/xapi/conftest.py); `make run` can send to one started with
`.venv/bin/python -m tests.xapi.ralph_lrs` (README, "xAPI statements").

Ralph validates every statement it receives and answers the xAPI Statement API (POST and GET
/xAPI/statements with Basic auth). The virtualenv is created on first use from
ralph-requirements.txt, so a fresh clone needs nothing more than network access to PyPI once.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-ralph"
REQUIREMENTS = Path(__file__).with_name("ralph-requirements.txt")
RALPH = VENV / "bin" / "ralph"
SERVER = Path(__file__).with_name("ralph_server.py")
KEY, SECRET = "callsafe-tests", "a-long-test-secret-for-ralph"


def ensure_installed() -> Path:
    """Create .venv-ralph with Ralph if it is not there (or its requirements changed)."""
    stamp = VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if RALPH.exists() and stamp.exists() and stamp.read_text() == wanted:
        return RALPH
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(wanted)
    return RALPH


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RalphLRS:
    """One Ralph server on a free port, with its data in `workdir`; stop() and start() again at will."""

    def __init__(self, workdir: Path, port: int | None = None, key: str = KEY, secret: str = SECRET) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.key, self.secret = key, secret
        self.process: subprocess.Popen | None = None
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "RALPH_APP_DIR": str(workdir), "RALPH_AUTH_FILE": str(workdir / "auth.json"),
                    "RALPH_RUNSERVER_BACKEND": "fs",
                    "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(workdir / "data")}
        (workdir / "auth.json").unlink(missing_ok=True)  # `ralph auth -w` appends: one user, ours
        subprocess.run([str(RALPH), "auth", "-u", key, "-p", secret, "-s", "all", "-w",
                        "-A", "callsafe-tests", "http://127.0.0.1"], env=self.env, cwd=workdir, check=True,
                       capture_output=True)

    @property
    def url(self) -> str:
        """The xAPI endpoint, as XAPI_LRS_URL takes it."""
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def start(self, timeout: float = 60) -> None:
        with open(self.workdir / "ralph.log", "ab") as log:  # the server keeps its own copy of the file
            self.process = subprocess.Popen(
                [str(VENV / "bin" / "python"), str(SERVER), "127.0.0.1", str(self.port)],
                env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph stopped at start: {(self.workdir / 'ralph.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        raise RuntimeError("Ralph did not answer within a minute")

    def stop(self) -> None:
        """Stop the server (its own process group, which start() made)."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        # The port is free once nothing accepts on it any more.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.2)

    def get(self, **params: str) -> dict:
        """GET /xAPI/statements with these query parameters, as a client of the LRS would."""
        credentials = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        request = urllib.request.Request(
            f"{self.url}statements?{urllib.parse.urlencode(params)}",
            headers={"Authorization": f"Basic {credentials}", "X-Experience-API-Version": "1.0.3"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def statement(self, statement_id: str) -> dict:
        """One statement by id. The spec answers the statement itself; Ralph 5 wraps it in a
        StatementResult, so both are read."""
        body = self.get(statementId=statement_id)
        if "statements" in body:
            assert len(body["statements"]) == 1, body
            return body["statements"][0]
        return body


def main() -> None:
    """Serve Ralph on 127.0.0.1:8100 (RALPH_PORT) with its data in instance/ralph/, until Ctrl-C."""
    key = os.environ.get("XAPI_LRS_KEY") or "callsafe-dev"
    secret = os.environ.get("XAPI_LRS_SECRET") or "callsafe-dev-secret"
    ensure_installed()
    lrs = RalphLRS(REPO / "instance" / "ralph", port=int(os.environ.get("RALPH_PORT", "8100")), key=key, secret=secret)
    lrs.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped like Ctrl-C: Ralph goes too
    print(f"Ralph LRS at {lrs.url} (statements in {lrs.workdir / 'data'}). Run the app with:\n"
          f"  XAPI_LRS_URL={lrs.url} XAPI_LRS_KEY={key} XAPI_LRS_SECRET={secret} make run\n"
          "Ctrl-C stops it.", flush=True)
    try:
        lrs.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        lrs.stop()


if __name__ == "__main__":
    main()
