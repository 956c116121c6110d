"""Production safety: `check --deploy` is clean under the README's production environment, and the
server refuses to start on a public or weak SECRET_KEY without DEBUG."""

from __future__ import annotations

import re
import secrets
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from huiyin.access.deploy import KEY_FILE, PUBLIC_KEYS, resolve_secret_key

from .conftest import run_python

README = Path(__file__).resolve().parents[2] / "README.md"
OLD_DEFAULT = next(iter(PUBLIC_KEYS))


def production_env(tmp_path: Path) -> dict[str, str]:
    """The README's production environment block, with a real key and a scratch data directory."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- production-env:begin -->\s*```sh\n(.*?)```", text, re.S)
    assert block, "README.md has no production environment block"
    env = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    assert env["HUIYIN_PRODUCTION"] == "1" and "SECRET_KEY" in env and "HUIYIN_AUDIT_KEY" in env
    assert "HUIYIN_FIELD_KEYS" in env and "HUIYIN_LOOKUP_KEYS" in env  # personal data at rest (huiyin.W101)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["HUIYIN_AUDIT_KEY"] = secrets.token_urlsafe(32)
    env["HUIYIN_FIELD_KEYS"] = Fernet.generate_key().decode()
    env["HUIYIN_LOOKUP_KEYS"] = secrets.token_urlsafe(32)
    env["HUIYIN_DATA_DIR"] = str(tmp_path / "data")
    return env


def manage(args: list[str], env: dict[str, str]):
    return run_python(["-m", "django", *args], {"DJANGO_SETTINGS_MODULE": "huiyin.settings", **env})


def test_check_deploy_is_clean_under_the_documented_production_environment(tmp_path):
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_without_production_mode_check_deploy_still_warns(tmp_path):
    """The test above proves something: the same check on the laptop defaults is not clean."""
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], {"HUIYIN_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016", "huiyin.access.W001"):
        assert warning in result.stderr + result.stdout


PRINT_SETTINGS = """
import django
from django.conf import settings
django.setup()
print(settings.SECURE_HSTS_SECONDS, settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE,
      settings.SECURE_PROXY_SSL_HEADER, ",".join(settings.HUIYIN_REQUIRE_2FA_FOR))
"""


def test_the_documented_environment_needs_its_audit_key(tmp_path):
    """Production refuses to start without HUIYIN_AUDIT_KEY, so the README's block names it."""
    env = production_env(tmp_path)
    del env["HUIYIN_AUDIT_KEY"]
    result = manage(["check"], env)
    assert result.returncode != 0
    assert "Refusing to start: HUIYIN_PRODUCTION needs HUIYIN_AUDIT_KEY" in result.stderr


def test_production_mode_turns_the_https_settings_and_the_second_factor_rule_on(tmp_path):
    result = run_python(
        ["-c", PRINT_SETTINGS], {"DJANGO_SETTINGS_MODULE": "huiyin.settings", **production_env(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "31536000",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "view_pii,administer,admin_site",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": OLD_DEFAULT}, "SECRET_KEY is insecure (it is the public default"),
        ({"SECRET_KEY": "short-but-secret"}, "fewer than 50"),
        ({"SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "django-insecure-"),
        ({"HUIYIN_PRODUCTION": "1"}, "SECRET_KEY is not set"),
        ({"HUIYIN_PRODUCTION": "1", "SECRET_KEY": "a" * 60}, "fewer than 5 different characters"),
        ({"HUIYIN_PRODUCTION": "1", "HUIYIN_DEBUG": "1"}, "HUIYIN_DEBUG must be off"),
    ],
)
def test_the_server_refuses_to_start_on_an_insecure_key(tmp_path, env, message):
    result = manage(["check"], {"HUIYIN_DATA_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: Refusing to start" in result.stderr
    assert message in result.stderr


def test_debug_may_run_on_a_development_key(tmp_path):
    result = manage(["check"], {"HUIYIN_DATA_DIR": str(tmp_path), "HUIYIN_DEBUG": "1", "SECRET_KEY": OLD_DEFAULT})
    assert result.returncode == 0, result.stderr


def test_an_install_without_a_key_makes_its_own_private_one(tmp_path):
    first = resolve_secret_key(configured="", production=False, debug=False, data_dir=tmp_path / "data")
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 50 and first not in PUBLIC_KEYS
    # Every process of this install reads the same key; another install has another.
    assert resolve_secret_key(configured="", production=False, debug=False, data_dir=tmp_path / "data") == first
    assert resolve_secret_key(configured="", production=False, debug=False, data_dir=tmp_path / "other") != first
    assert list((tmp_path / "data").iterdir()) == [path]  # no temporary file left behind


def test_a_configured_key_wins_and_production_needs_one(tmp_path):
    key = secrets.token_urlsafe(50)
    assert resolve_secret_key(configured=key, production=True, debug=False, data_dir=tmp_path) == key
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        resolve_secret_key(configured="", production=True, debug=False, data_dir=tmp_path)
