"""The packages stay lint- and type-clean: ruff (pyflakes, pycodestyle, import order) and mypy, configured in
pyproject.toml and pinned in the dev extra, run as part of the test command."""

from __future__ import annotations

import subprocess
import sys

from paths import ROOT

LINTED = ["mmweak", "lf_library", "recipes", "benchmarks", "tests"]


def _run(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_ruff_is_clean():
    proc = _run("ruff", "check", "--no-cache", *LINTED)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean(tmp_path):
    proc = _run("mypy", "--cache-dir", str(tmp_path / "mypy"))  # packages and settings from pyproject.toml
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr
    assert "Success: no issues found" in proc.stdout


def test_the_checks_can_fail(tmp_path):
    (tmp_path / "bad.py").write_text("import os\n\n\ndef f(x: int) -> str:\n    return x\n")
    assert _run("ruff", "check", "--no-cache", "--isolated", "bad.py", cwd=tmp_path).returncode == 1
    proc = _run("mypy", "--no-incremental", "--config-file", "/dev/null", "bad.py", cwd=tmp_path)
    assert proc.returncode == 1 and "Incompatible return value type" in proc.stdout
