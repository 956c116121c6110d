"""One-use link tokens (rating links, survey invitations): the token goes out once in
the link; only its SHA-256 is stored, so the database alone opens nothing."""

from __future__ import annotations

import hashlib
import secrets


def new_token(nbytes: int) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()
