"""The production units in deploy/systemd/ run what exists, restart on failure, one per
part, and the README points at them."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_web_worker_and_sweeper_are_separate_units_restarted_on_failure():
    commands = {}
    for name in ("huiyin-web.service", "huiyin-worker.service", "huiyin-sweeper.service"):
        service = unit(name)["Service"]
        assert service["Restart"] == "on-failure", name
        assert service["EnvironmentFile"] == "/etc/huiyin/huiyin.env"
        assert unit(name)["Unit"]["StartLimitIntervalSec"] == "0"  # never give up restarting
        argv = shlex.split(service["ExecStart"].replace("\\\n", " "))
        commands[name] = argv
    assert commands["huiyin-web.service"][0].endswith("/gunicorn")
    assert commands["huiyin-web.service"][1] == "huiyin.wsgi:application"
    assert commands["huiyin-worker.service"][1:] == ["huiyin_worker"]
    assert commands["huiyin-sweeper.service"][1:] == ["huiyin_sweeper"]
    assert {"huiyin_worker", "huiyin_sweeper"} <= set(get_commands())
    target = unit("huiyin.target")["Unit"]["Wants"].split()
    assert sorted(target) == ["huiyin-sweeper.service", "huiyin-web.service", "huiyin-worker.service"]


def test_the_readme_points_at_the_units():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "deploy/systemd/" in readme and "huiyin-worker.service" in readme
