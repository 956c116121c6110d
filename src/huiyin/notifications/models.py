"""Notifications (F62) and the e-mail channel (F01): the organisation's message templates
and switches, every message sent or withheld (logged on its case, recipient masked), and
every mail taken from the mailbox (deduplicated by Message-ID, parked for a clerk when it
cannot become a case by itself)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.core.fields import EncryptedTextField
from huiyin.core.states import StatusTable

from .purposes import LANGUAGES, Audience, Medium, Purpose


class MessageTemplate(models.Model):
    """An organisation's own text for a purpose, medium and language (none: the default)."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(_("通知事项"), max_length=20, choices=Purpose.choices)
    medium = models.CharField(_("方式"), max_length=10, choices=Medium.choices)
    language = models.CharField(_("语言"), max_length=10, choices=LANGUAGES)
    subject = models.CharField(_("邮件主题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知模板")
        verbose_name_plural = _("通知模板")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "purpose", "medium", "language"], name="message_template_once"
            )
        ]


class ChannelSwitch(models.Model):
    """The organisation's switch for one purpose and medium (none: the purpose's default)."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    medium = models.CharField(max_length=10, choices=Medium.choices)
    enabled = models.BooleanField(default=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "purpose", "medium"], name="channel_switch_once")
        ]


class StaffContact(models.Model):
    """Where a staff member wants their notices (dispatch, approvals, deadlines) besides the
    desk: an e-mail address (else the account's) and a mobile number for SMS."""

    staff = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = EncryptedTextField(_("电子邮箱"), max_length=254, blank=True)
    mobile = EncryptedTextField(_("手机号码"), max_length=11, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    WITHHELD = "withheld", _("未发送")


MESSAGE_STATES = StatusTable(
    MessageStatus,
    {
        MessageStatus.QUEUED: {MessageStatus.SENT, MessageStatus.FAILED},
        MessageStatus.FAILED: {MessageStatus.QUEUED},  # an administrator sends it again
    },
)


class Message(models.Model):
    """One message to one recipient for one event: queued in the event's transaction (or
    its after-commit subscriber's), sent by a task, retried with backoff. ``key`` (event,
    purpose, medium, recipient) makes it exactly once; it is also the gateway's
    idempotency key and the e-mail's Message-ID, so a retry after a crash between handing
    over and recording is recognised downstream. The recipient and the texts are
    encrypted; the case page shows the masked recipient and the text without the query
    code."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.CASCADE, related_name="+")
    # Events are never deleted (database triggers refuse it); SET_NULL keeps tests that
    # simulate tampering with the audit trail from tripping over the message log.
    event = models.ForeignKey("cases.Event", null=True, on_delete=models.SET_NULL, related_name="+")
    key = models.CharField(max_length=160, unique=True)
    purpose = models.CharField(_("通知事项"), max_length=20, choices=Purpose.choices)
    medium = models.CharField(_("方式"), max_length=10, choices=Medium.choices)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    party = models.ForeignKey("cases.Party", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = EncryptedTextField(max_length=254, blank=True)
    recipient_masked = models.CharField(_("收件人"), max_length=120, blank=True)
    language = models.CharField(max_length=10, blank=True)
    subject = EncryptedTextField(blank=True)
    body = EncryptedTextField(blank=True)
    shown_body = EncryptedTextField(blank=True)  # the body with the query code hidden
    message_id = models.CharField(max_length=200, blank=True, db_index=True)  # e-mail only
    status = models.CharField(_("状态"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    reason = models.CharField(_("说明"), max_length=200, blank=True)  # why withheld, the last failure
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at"], name="message_case_recent"),
            # The poller's look for queued messages whose task was lost (services.requeue_stale).
            models.Index(fields=["created_at"], name="message_queued", condition=models.Q(status="queued")),
        ]


class MailStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记为案件")
    CONTACT = "contact", _("已记入原案件")
    PARKED = "parked", _("待人工处理")
    DISCARDED = "discarded", _("已作废")


MAIL_STATES = StatusTable(
    MailStatus,
    {MailStatus.PARKED: {MailStatus.REGISTERED, MailStatus.DISCARDED}},
)


class InboundMail(models.Model):
    """One mail taken from the mailbox, once per Message-ID: what became of it, and for a
    parked one what a clerk needs to decide (the reason, the sender, the text, the raw
    message kept privately on disk)."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=255)
    status = models.CharField(_("状态"), max_length=12, choices=MailStatus.choices)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender = EncryptedTextField(_("发件人"), max_length=254, blank=True)
    sender_masked = models.CharField(_("发件人"), max_length=120, blank=True)
    subject = EncryptedTextField(_("主题"), blank=True)
    text = EncryptedTextField(_("正文"), blank=True)
    size = models.PositiveIntegerField(default=0)
    reason = models.CharField(_("待处理原因"), max_length=300, blank=True)
    raw_path = models.CharField(max_length=255, blank=True)  # under DATA_DIR/mail/, 0600
    received_at = models.DateTimeField()
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    discard_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("来信邮件")
        verbose_name_plural = _("来信邮件")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "message_id"], name="inbound_mail_once")]
        indexes = [models.Index(fields=["organization", "status", "-received_at"], name="inbound_mail_queue")]
