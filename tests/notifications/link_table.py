"""A subscriber table module pointing the notifications' ``link`` elsewhere, as the portal
will (tests/notifications/test_messages.py)."""

from huiyin.subscribers import ACTIONS, TABLE

NOTIFICATION_LINK = "tests.notifications.link_table.portal_link"
__all__ = ["ACTIONS", "NOTIFICATION_LINK", "TABLE"]


def portal_link(case) -> str:
    return f"https://portal.example/c/{case.pk}"
