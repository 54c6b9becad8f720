"""A real Label Studio server (``label-studio`` from PyPI, SQLite) on localhost, for the review round-trip tests.

Label Studio (Django and its pins) lives in its own virtualenv, ``.venv-ls``, which ``scripts/setup.sh``
creates together with a database template already migrated (``.venv-ls/mmweak-template``), so a test
session copies it and the server is up in seconds instead of a minute of migrations. Each session gets a
temporary data folder, a free port on 127.0.0.1, and its own admin user and legacy API token. Everything
that would reach the internet (version check, Sentry, analytics) is switched off, and a dead proxy catches
anything left, so the tests never touch the network.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LS_VENV = Path(os.environ.get("MMWEAK_LS_VENV", ROOT / ".venv-ls"))
TEMPLATE = LS_VENV / "mmweak-template" / "label_studio.sqlite3"
FAILED_MARK = LS_VENV / "INSTALL-FAILED"
START_TIMEOUT = 240.0


def offline_env(data_dir: str | os.PathLike) -> dict[str, str]:
    """Environment for a Label Studio process that keeps to localhost."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
        "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false",
        # Anything that still tries the internet hits a closed local port instead.
        "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
        "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def unavailable_reason() -> str | None:
    """Why no server can be started here (``None`` when it can)."""
    python = LS_VENV / "bin" / "python"
    if FAILED_MARK.exists():
        return f"label-studio could not be installed into {LS_VENV}: {FAILED_MARK.read_text().strip()[-500:]}"
    if not python.exists():
        return (f"no Label Studio server virtualenv at {LS_VENV}: run `make setup` (scripts/setup.sh installs "
                "label-studio there)")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudioServer:
    """``with LabelStudioServer() as ls:`` starts the server; ``ls.url`` and ``ls.token`` reach it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.email = "reviewer@mmweak.test"
        # token_urlsafe may start with "-", which argparse would read as an option; the
        # "--flag=value" form below is safe for any value, the prefix keeps logs readable.
        self.password = "pw" + secrets.token_urlsafe(12)
        self.token = secrets.token_hex(20)
        self.data_dir = Path(tempfile.mkdtemp(prefix="mmweak-labelstudio-"))
        self.log_path = self.data_dir / "server.log"
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The server's argv; every value rides in ``--flag=value`` so none can pass for an option."""
        values = {"internal-host": "127.0.0.1", "port": str(self.port), "data-dir": str(self.data_dir),
                  "username": self.email, "password": self.password, "user-token": self.token,
                  "log-level": "WARNING"}
        return [str(LS_VENV / "bin" / "python"), "-m", "label_studio.server", "start", "--no-browser",
                *(f"--{k}={v}" for k, v in values.items()), "--enable-legacy-api-token"]

    def __enter__(self) -> "LabelStudioServer":
        if TEMPLATE.exists():
            shutil.copy2(TEMPLATE, self.data_dir / "label_studio.sqlite3")
        cmd = self.command()
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=offline_env(self.data_dir),
                                     cwd=self.data_dir, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Label Studio exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                        f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Label Studio did not answer on {self.url} within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # The dev server forks an autoreloader child: stop the whole session we started.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
