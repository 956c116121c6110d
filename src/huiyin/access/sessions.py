"""Session lifetime: an absolute limit from the login, on top of the idle expiry."""

from __future__ import annotations

import time

LOGIN_AT = "huiyin_login_at"
SEEN_AT = "huiyin_seen_at"
# How often a request renews the idle expiry (a session write), at most.
TOUCH_EVERY = 60


def note_login(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: when this session's login happened."""
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[LOGIN_AT] = now
        session[SEEN_AT] = now
