"""The case core's errors that need the lifecycle's words."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from huiyin.core.errors import ApplicationError, CoreError, StaleObject, ValidationFailed

from .workflow import state_label


class InvalidTransition(ApplicationError):
    """The state table has no such move from the case's state (under its policy)."""

    code = CoreError.INVALID_TRANSITION

    def __init__(self, *, src: str, dst: str, reason: str = ""):
        self.src, self.dst = src, dst
        if src == dst and reason:
            # No move was asked for (a contact or an edit on an archived case): the reason is
            # the whole answer, not "cannot change from archived to archived".
            super().__init__(reason)
            return
        message = _("案件当前状态为“%(src)s”，不能变更为“%(dst)s”。") % {
            "src": state_label(src),
            "dst": state_label(dst),
        }
        if reason:
            # Two sentences: run together in Chinese, a space between them in English.
            message = _("%(message)s%(reason)s") % {"message": message, "reason": reason}
        super().__init__(message)


class LookupLimited(ApplicationError):
    """The status page's look-ups from an address, or its wrong query codes for a number, are
    used up for the window (the limits the portal shares, ``huiyin.core.limits``)."""

    code = CoreError.PERMISSION_DENIED

    def __init__(self, message: str, *, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message, field="code")


class RepeatRegistration(ValidationFailed):
    """A registration refused because the person has an open case the preset says to add
    the call or visit to (``intake.repeat_same_day`` / ``repeat_while_open``); the clerk may
    confirm a new matter (``new_matter``), which the intake form then offers."""


class CaseStale(StaleObject):
    """Someone else changed the case since the form was opened (its version moved on)."""

    def __init__(self) -> None:
        super().__init__(_("该案件已被其他人修改，请刷新页面后重试，您的输入未丢失。"))
