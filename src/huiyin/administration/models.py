"""The administration's own records: the audit trail of every change an administrator
made to staff and departments, and the accounts that must choose a new password."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiyin.orgs.models import Department, Organization, Staff


class AuditAction(models.TextChoices):
    STAFF_CREATED = "staff_created", _("新建账号")
    STAFF_UPDATED = "staff_updated", _("修改账号")
    STAFF_DEACTIVATED = "staff_deactivated", _("停用账号")
    STAFF_REACTIVATED = "staff_reactivated", _("启用账号")
    PASSWORD_RESET = "password_reset", _("重置密码")
    PASSWORD_CHANGED = "password_changed", _("本人修改密码")
    DEPARTMENT_CREATED = "department_created", _("新建部门")
    DEPARTMENT_UPDATED = "department_updated", _("修改部门")
    DEPARTMENT_DELETED = "department_deleted", _("删除部门")
    CATEGORY_TAGGED = "category_tagged", _("修改分类标签")


class AuditEntry(models.Model):
    """One change by one person: who, when, what, and each field's old and new value.

    Append-only (``save`` refuses an update, ``delete`` refuses). No password, hash or
    generated secret is ever written here: a password change is recorded as the fact.
    ``changes`` is a list of ``{"field": name, "old": value, "new": value}`` with values
    as stored (role codes, department names, booleans); ``selectors`` labels them.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人"))
    action = models.CharField(_("操作"), max_length=40, choices=AuditAction.choices)
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A department with no other reference may be deleted: its entries keep its name.
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target = models.CharField(_("对象"), max_length=200)
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("管理操作记录")
        verbose_name_plural = _("管理操作记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "-at"], name="admin_audit_org_at"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries are append-only")


class PasswordChangeRequired(models.Model):
    """The account's password was set by an administrator: its owner must choose their own
    at the next sign-in (``middleware``). The row goes when they do."""

    staff = models.OneToOneField(Staff, primary_key=True, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(default=timezone.now)
    set_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("须修改密码")
        verbose_name_plural = _("须修改密码")
