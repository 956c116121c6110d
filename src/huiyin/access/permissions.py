"""Who must use a second factor (``settings.HUIYIN_REQUIRE_2FA_FOR``)."""

from __future__ import annotations

from django.conf import settings

# The rule's word for accounts that can enter Django's admin site (is_staff / is_superuser).
ADMIN_SITE = "admin_site"


def must_enrol(user) -> bool:
    """True when the rule names one of the user's capabilities, or the admin site and the user can enter it."""
    rule = settings.HUIYIN_REQUIRE_2FA_FOR
    if not rule:
        return False
    if ADMIN_SITE in rule and (user.is_staff or user.is_superuser):
        return True
    caps: frozenset[str] = getattr(user, "caps", frozenset())
    return any(token in caps for token in rule)
