"""Deployment safety decided while the settings load: the secret key.

Imported by ``huiyin.settings`` before Django is set up, so it needs nothing of Django but
its exception. A production server (``HUIYIN_PRODUCTION=1``) must be given a strong
``SECRET_KEY``; a laptop or demo install without one gets a random key of its own, made
once and kept in the data directory, so no install ever runs on a key printed in the source.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Keys that were public at some point (the old built-in default): never accepted without DEBUG.
PUBLIC_KEYS = frozenset({"huiyin-insecure-development-key-change-me"})
KEY_FILE = "secret_key"
MIN_LENGTH = 50  # Django's own bar (security.W009)
MIN_UNIQUE = 5


def weakness(key: str) -> str | None:
    """Why ``key`` is not fit for a server without DEBUG, or None when it is."""
    if key in PUBLIC_KEYS:
        return "it is the public default from the source code"
    if key.startswith("django-insecure-"):
        return "it is a 'django-insecure-' development key"
    if len(key) < MIN_LENGTH:
        return f"it has {len(key)} characters, fewer than {MIN_LENGTH}"
    if len(set(key)) < MIN_UNIQUE:
        return f"it has fewer than {MIN_UNIQUE} different characters"
    return None


def resolve_secret_key(*, configured: str, production: bool, debug: bool, data_dir: Path) -> str:
    """The SECRET_KEY to run with, or ImproperlyConfigured with what to do about it."""
    if configured:
        problem = weakness(configured)
        if problem and not debug:
            raise ImproperlyConfigured(
                f"Refusing to start: SECRET_KEY is insecure ({problem}). Set SECRET_KEY to a long random "
                'value, e.g. the output of: python -c "import secrets; print(secrets.token_urlsafe(50))"'
            )
        return configured
    if production:
        raise ImproperlyConfigured(
            "Refusing to start: HUIYIN_PRODUCTION is on but SECRET_KEY is not set. Set SECRET_KEY to a long "
            'random value, the same on every machine, e.g. python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    return _local_key(data_dir)


def _local_key(data_dir: Path) -> str:
    """This data directory's own random key, made on first use (mode 0600).

    Several processes may start at once (web workers, the task worker, the sweeper, test
    workers): the key is written to a private temporary file and linked into place, so the
    first one wins and every process reads the same complete key.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if weakness(key):
        raise ImproperlyConfigured(f"Refusing to start: the key in {path} is unusable; delete it to make a new one.")
    return key
