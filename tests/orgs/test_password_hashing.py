"""The suite hashes passwords with MD5 for speed (tests/conftest.py); staff passwords in
production are hashed with Argon2, and older PBKDF2 hashes still verify."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.test import override_settings

import huiyin.settings as production


def test_production_hashes_staff_passwords_with_argon2():
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        encoded = make_password("huiyin2026")
        assert encoded.startswith("argon2$")
        assert check_password("huiyin2026", encoded)
        assert not check_password("huiyin2025", encoded)


def test_production_still_accepts_a_pbkdf2_hash():
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS[::-1]):
        legacy = make_password("huiyin2026")
    assert legacy.startswith("pbkdf2_sha256$")
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        assert check_password("huiyin2026", legacy)
