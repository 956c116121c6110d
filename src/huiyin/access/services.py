"""Writes: enrolling a TOTP authenticator (django-otp's TOTPDevice)."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "authenticator"


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def enrolment_confirm(*, user, device: TOTPDevice, token: str) -> bool:
    """Confirm ``device`` with a code from the app; other unconfirmed secrets of the user go."""
    if device.user_id != user.pk or device.confirmed:
        return False
    with transaction.atomic():
        if not device.verify_token(token):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return True


def login_unlock(*, username: str) -> int:
    """Lift the login throttle on an account from every address (an administrator gave it a
    new password: the person who was locked out signs in with it now, not in 15 minutes).
    Returns how many throttled attempts were cleared."""
    deleted, _ = AccessAttempt.objects.filter(username=username).delete()
    return deleted
