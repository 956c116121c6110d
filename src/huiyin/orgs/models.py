from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import Role, caps_for


class Organization(models.Model):
    """One tenant: a hotline centre, petition office, hospital, property company..."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    preset = models.CharField(_("政策预设"), max_length=60, blank=True)
    # Stages a policy may switch off (approval, callback...). The policy app owns
    # the full preset; this snapshot is what the lifecycle consults.
    stage_switches = models.JSONField(_("环节开关"), default=dict, blank=True)
    hotline = models.CharField(_("查询电话"), max_length=40, blank=True)
    # Off for demo and training organisations, whose phone numbers are made up.
    notify_complainants = models.BooleanField(_("向反映人发送短信通知"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A node in the organisation tree (科室, 大队, 中队, 分站...)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="departments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=120)
    handles_cases = models.BooleanField(_("可承办"), default=True)
    sort_order = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)  # optimistic lock of the edit form (core.versions)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="department_code_unique")]

    def __str__(self) -> str:
        return self.name


class Staff(AbstractUser):
    """A staff member: login, organisation, primary department and roles."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    roles = models.JSONField(_("角色"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic lock of the edit form (core.versions)

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def org_id(self) -> int:
        """The organisation a desk user works in.

        Every desk account has one; only a bare `createsuperuser` account, meant for the
        Django admin, lacks it — and has no desk to use (403 rather than empty lists or a
        failed insert).
        """
        if self.organization_id is None:
            raise PermissionDenied(_("您的账号不属于任何单位，没有工作台。"))
        return self.organization_id

    @cached_property
    def caps(self) -> frozenset[str]:
        return caps_for(self.roles)

    def can(self, cap: str) -> bool:
        return cap in self.caps

    @property
    def is_dept_head(self) -> bool:
        return Role.DEPT_HEAD in self.roles

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.roles if r in Role.values]


class ExternalSystem(models.Model):
    """A way in for someone who is not on the staff: the public portal (网上信访 / 网上投诉),
    or another system registered to create and follow cases (a city app, a provincial
    platform forwarding matters down, a telephony system)."""

    class Kind(models.TextChoices):
        PORTAL = "portal", _("公众门户")
        API = "api", _("外部系统")
        MAILBOX = "mailbox", _("电子邮箱")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="external_systems")
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    # What the system may do, as capabilities (orgs.roles.Cap); the portal only registers.
    caps = models.JSONField(_("权限"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("外部系统")
        verbose_name_plural = _("外部系统")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="external_system_code_unique")]

    def __str__(self) -> str:
        return self.name
