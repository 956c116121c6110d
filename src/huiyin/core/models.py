from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import reminders
from .fields import EncryptedTextField
from .states import StatusTable


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
    text = models.CharField(max_length=300)  # in the organisation's language (LANGUAGE_CODE)
    # The wording's message id and values (``reminders.ReminderText``): shown in the reader's language.
    message = models.JSONField(default=dict, blank=True)
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

    @property
    def shown(self) -> str:
        """The reminder in the reader's (active) language."""
        return reminders.shown(self.message, self.text)


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


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队等待生成")
    RUNNING = "running", _("正在生成")
    DONE = "done", _("已生成")
    FAILED = "failed", _("生成失败")
    EXPIRED = "expired", _("已过期")


# A background export: queued, written by the task (running again if its worker died and
# the task was retried), then done or failed; a done file is deleted after the keeping time.
EXPORT_STATUSES = StatusTable(
    ExportStatus,
    {
        ExportStatus.QUEUED: {ExportStatus.RUNNING, ExportStatus.FAILED},
        ExportStatus.RUNNING: {ExportStatus.RUNNING, ExportStatus.DONE, ExportStatus.FAILED},
        ExportStatus.DONE: {ExportStatus.EXPIRED},
        ExportStatus.FAILED: {ExportStatus.EXPIRED},
    },
)


def export_path(instance: "ExportJob", filename: str) -> str:
    return f"exports/{instance.organization_id}/{filename}"


class ExportJob(models.Model):
    """A list exported by a background task (``core.export_jobs``): who asked for which
    list (``source``, its filters as a query string), in which format, whether in full
    (personal data in clear: each case is also logged as a full view), how far the task
    is, and the file, which only the person who asked may download, for
    ``HUIYIN_EXPORT_KEEP_HOURS``. The row stays as the record of the export."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=40)
    title = models.CharField(max_length=80)
    fmt = models.CharField(max_length=4)
    query = models.TextField(blank=True)
    full = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)  # as counted when asked (an estimate above the count cap)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=255, blank=True)
    filename = models.CharField(max_length=120, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "-requested_at"], name="export_job_person"),
            models.Index(fields=["status", "finished_at"], name="export_job_status"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.fmt})"

    @property
    def running(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def percent(self) -> int:
        """How far the task is: rows written of rows counted (99 at most until it is done)."""
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
