from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .fields import EncryptedTextField


class Notification(models.Model):
    """An entry on a staff member's desk (dispatch, warnings, escalations...): a reminder.

    Read when its case is opened (or it is marked read); done when the person says so,
    or when its case is finished (``notify.desk_case_finished``): a done reminder leaves
    the desk. ``kind`` says what it is about ("dispatched", "clock:warn", "clock:overdue",
    "supervision:issued"...): one open reminder per case and kind."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)  # makes re-running a task harmless
    kind = models.CharField(max_length=40, blank=True, default="")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)  # when it happened (a recreated history's own time)
    read_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once")]
        indexes = [
            # The desk: a person's open reminders, newest first.
            models.Index(
                fields=["recipient", "-created_at"], condition=Q(done_at__isnull=True), name="notification_open"
            ),
        ]


class OutboundMessage(models.Model):
    """Read-only history: the SMS and staff e-mails handed to a gateway, once per key, before
    ``huiyin.notifications`` sent every message from templates (its ``Message`` log on the
    case). Nothing writes new rows (``save`` refuses one); the rows stay for the record they
    hold. The recipient and the text (which may carry a one-use rating link) are encrypted;
    the retention rule still erases them (``cases.retention.erase_old_messages``) and key
    rotation re-encrypts them (``huiyin reencrypt``)."""

    key = models.CharField(max_length=120, unique=True)
    channel = models.CharField(max_length=10)  # sms | email
    recipient = EncryptedTextField(max_length=120)
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def save(self, *args, **kwargs):
        if self._state.adding:
            raise RuntimeError("core.OutboundMessage is a read-only history: messages are notifications.Message rows")
        super().save(*args, **kwargs)
