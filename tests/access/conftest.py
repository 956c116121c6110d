from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import huiyin
from tests.conftest import make_staff

# The source tree under test (a worktree's src wins over an installed copy in subprocesses too).
SRC = Path(huiyin.__file__).resolve().parents[1]
PASSWORD = "Tianqi-qing-2026"


@pytest.fixture
def staff(org):
    """A staff member with a real password, for logins through the form."""

    def _make(username: str = "zhou", roles: list[str] | None = None, **extra):
        user = make_staff(org, username, roles or ["analyst"])
        user.set_password(PASSWORD)
        for key, value in extra.items():
            setattr(user, key, value)
        user.save()
        return user

    return _make


def run_python(args: list[str], env: dict[str, str], *, timeout: int = 120) -> subprocess.CompletedProcess:
    """``python ARGS`` in a fresh process with exactly the given environment (plus PATH and the source tree)."""
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC), **env}
    return subprocess.run(
        [sys.executable, *args], env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )
