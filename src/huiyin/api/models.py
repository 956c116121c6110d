"""API keys (per external system, or a staff member's token) and idempotency records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiyin.core.fields import EncryptedTextField
from huiyin.core.states import StatusTable
from huiyin.orgs.models import Department, ExternalSystem, Organization


class Scope(models.TextChoices):
    """What a key may do beyond reading; ``action:<name>`` scopes name one case action each."""

    READ = "read", _("读取案件")
    REGISTER = "register", _("登记案件")
    CONTACT = "contact", _("添加来电记录")
    ATTACH = "attach", _("上传附件")
    PII = "pii", _("查看完整个人信息")
    ALL_ACTIONS = "action:*", _("全部案件操作")


ACTION_SCOPE_PREFIX = "action:"


class ApiKey(models.Model):
    """A secret a client sends as ``Authorization: Bearer hy_<prefix>_<secret>``.

    Only the SHA-256 of the whole key is stored (the key is shown once, when created); a
    key belongs to an external system (it acts as that system) or to a staff member (a
    staff token: it acts as them); it may be revoked, expires, and is narrowed to scopes
    and, optionally, to the cases some departments lead."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    system = models.ForeignKey(ExternalSystem, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("名称"), max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("权限范围"), default=list, blank=True)
    departments = models.ManyToManyField(Department, blank=True, related_name="+", verbose_name=_("限定部门"))
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(system__isnull=False, staff__isnull=True))
                | (models.Q(system__isnull=True, staff__isnull=False)),
                name="api_key_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def allows(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        return scope.startswith(ACTION_SCOPE_PREFIX) and Scope.ALL_ACTIONS in self.scopes

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying ``Idempotency-Key``: a retry gets it back."""

    owner = models.CharField(max_length=40)  # "key:<id>" or "staff:<id>": keys are per client
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None while the first runs
    body = models.BinaryField(blank=True, default=b"")
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="api_idempotency_unique")]


class Webhook(models.Model):
    """A receiver of signed case notifications (registered, accepted, dispatched, replied,
    closed, reopened, overdue, callback recorded)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("接收地址"), max_length=500)
    # The HMAC key both sides hold: read back to sign every delivery, so encrypted at rest
    # (core.crypto), not hashed as an API key is.
    secret = EncryptedTextField(max_length=128)
    event_types = models.JSONField(_("事件类型"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    failures = models.PositiveIntegerField(default=0)  # deliveries given up in a row
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")


# Sent or given up; either may be sent again by hand (``webhooks.redeliver``).
DELIVERY_STATUSES = StatusTable(
    DeliveryStatus,
    {
        DeliveryStatus.PENDING: {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED},
        DeliveryStatus.DELIVERED: {DeliveryStatus.PENDING},
        DeliveryStatus.FAILED: {DeliveryStatus.PENDING},
    },
)


class WebhookDelivery(models.Model):
    """One event to one webhook: its attempts and the last response (the delivery log)."""

    Status = DeliveryStatus

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("cases.Event", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webhook", "event"], name="api_webhook_delivery_unique")]


class Open311Submission(models.Model):
    """A GeoReport POST whose registration is deferred (the ``batch`` service type): the
    client gets ``token`` at once, the task queue registers the case through the same
    ``case_register``, and ``GET tokens/<token>`` answers the case number once it exists.

    The request's fields (the complainant's name and phone among them) are kept encrypted
    until the case is registered, then erased; a refusal keeps its reason."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(ExternalSystem, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    payload = EncryptedTextField(blank=True, default="")  # the IntakeInput as JSON; "" once done
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    refusal = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
