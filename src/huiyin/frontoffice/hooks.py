"""What other apps do when a visitor checks in at the front desk: the seam through which
``huiyin.notifications`` (above the front office in the layers) tells the host that their
visitor has arrived. The front office never names those apps: the handlers are listed in the
subscriber table (``huiyin/subscribers.py``, ``FRONT_OFFICE_CHECK_IN``, read by name from
``settings.HUIYIN_EVENT_TABLE``) and each runs once the check-in has committed, with the
visitor's id; one that fails is logged and the check-in stands."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from importlib import import_module

from django.conf import settings
from django.db import transaction

CheckInHandler = Callable[..., None]


def check_in_handlers() -> tuple[CheckInHandler, ...]:
    module = import_module(str(getattr(settings, "HUIYIN_EVENT_TABLE", "huiyin.subscribers")))
    return tuple(getattr(module, "FRONT_OFFICE_CHECK_IN", ()))


def after_check_in(visitor_id: int) -> None:
    """Run every check-in handler after the current transaction commits."""
    for handler in check_in_handlers():
        transaction.on_commit(partial(handler, visitor_id=visitor_id), robust=True)
