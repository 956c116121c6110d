from django.conf import settings
from django.db import models

from .fields import EncryptedTextField


class Notification(models.Model):
    """An entry on a staff member's desk (dispatch, warnings, escalations...)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)  # makes re-running a task harmless
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once")]


class OutboundMessage(models.Model):
    """SMS / e-mail handed to a gateway backend, once per key. The recipient's number
    and the text (which may carry a one-use rating link) are stored encrypted."""

    key = models.CharField(max_length=120, unique=True)
    channel = models.CharField(max_length=10)  # sms | email
    recipient = EncryptedTextField(max_length=120)
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
