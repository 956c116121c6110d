"""Personal data at rest (F81): field encryption and keyed look-up hashes.

Personal fields (a complainant's name, phone, ID number, address) are stored as
Fernet tokens (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the keys in
``settings.HUIYIN_FIELD_KEYS``: the first key encrypts, every key decrypts, so a new
key goes first, ``huiyin reencrypt`` rewrites the rows under it, and the old key can
then be dropped. Without configured keys (a laptop set-up) one key is derived from
``SECRET_KEY``; it also stays last in the list once keys are configured, so a
database started on the default can move to real keys with ``huiyin reencrypt``.

A token cannot be compared in SQL, so the values looked up exactly (phone, ID number)
also get an HMAC-SHA256 column under a separate key (``settings.HUIYIN_LOOKUP_KEYS``;
the first one writes, a look-up matches any, ``huiyin reencrypt`` rewrites them too).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableValue(ImproperlyConfigured):
    """A stored personal field does not open with any configured key (a key was removed
    before ``huiyin reencrypt`` ran, or the database belongs to another installation)."""


def _derived(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` derived from SECRET_KEY (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"huiyin", info=purpose).derive(secret.encode())


def _field_key_list() -> tuple[tuple[str, ...], str]:
    return tuple(getattr(settings, "HUIYIN_FIELD_KEYS", ()) or ()), settings.SECRET_KEY


@functools.lru_cache(maxsize=4)
def _seal_fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived(secret, b"huiyin sealed values")))


def seal(value: str) -> str:
    """A value kept where anyone with the files could read it — a link (a search word that
    may be a name or a phone number), a session row (a query code just issued) — encrypted
    under a key of its own."""
    return _seal_fernet(settings.SECRET_KEY).encrypt(value.encode()).decode()


def unseal(token: str) -> str | None:
    """``seal``'s value, or None when the token is not one (tampered, or the key changed)."""
    try:
        return _seal_fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError, ValueError, AttributeError):
        return None


def _lookup_key_list() -> tuple[tuple[str, ...], str]:
    return tuple(getattr(settings, "HUIYIN_LOOKUP_KEYS", ()) or ()), settings.SECRET_KEY


def _development_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(_derived(secret, b"huiyin personal field encryption"))


@functools.lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...], secret: str) -> MultiFernet:
    fallback = _development_key(secret)
    try:
        ciphers = [Fernet(key.encode()) for key in keys]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "HUIYIN_FIELD_KEYS: each key must be 32 url-safe base64-encoded bytes "
            '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
        ) from exc
    return MultiFernet([*ciphers, Fernet(fallback)])


@functools.lru_cache(maxsize=8)
def _lookup_secrets(keys: tuple[str, ...], secret: str) -> tuple[bytes, ...]:
    return (*(key.encode() for key in keys), _derived(secret, b"huiyin personal field lookup"))


def configured() -> bool:
    """Whether real keys are set (not the SECRET_KEY-derived development keys)."""
    return bool(_field_key_list()[0]) and bool(_lookup_key_list()[0])


def encrypt(value: str) -> str:
    return _fernet(*_field_key_list()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(*_field_key_list()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableValue(
            "a personal field could not be decrypted with HUIYIN_FIELD_KEYS (was a key removed?)"
        ) from exc


def rotate(token: str) -> str:
    """The same value encrypted under the first (newest) key."""
    try:
        return _fernet(*_field_key_list()).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableValue("a personal field could not be decrypted with HUIYIN_FIELD_KEYS") from exc


def is_current(token: str) -> bool:
    """Whether ``token`` was made with the first key (nothing to rotate)."""
    keys, secret = _field_key_list()
    first = keys[0].encode() if keys else _development_key(secret)
    try:
        Fernet(first).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _digest(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def lookup_hash(value: str) -> str:
    """The keyed hash written next to an encrypted value ("" for a blank value)."""
    if not value:
        return ""
    return _digest(_lookup_secrets(*_lookup_key_list())[0], value)


def lookup_hashes(value: str) -> list[str]:
    """Every hash ``value`` may be stored under (one per look-up key): match any."""
    if not value:
        return []
    return [_digest(secret, value) for secret in _lookup_secrets(*_lookup_key_list())]
