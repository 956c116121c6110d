"""Evaluation (考评, F35): the deductions recorded against staff and departments.

The evaluation table itself is computed on demand from clocks, callbacks and rounds
(``selectors.evaluation``); the only thing stored is what a person decided: a matter
escalated over the handling unit's head (越级投诉), charged by the preset's
``deductions`` rule to the people it names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Case
from huiyin.orgs.models import Department, Organization

USER = settings.AUTH_USER_MODEL


class DeductionEntry(models.Model):
    """One person's (or, with nobody to charge, the department's) share of one
    deduction: (case, rule, level) recorded once, one row per charged person.

    ``points`` and the labels are copied from the preset when recorded, so a later
    change of the preset does not rewrite past evaluations.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deductions")
    rule = models.CharField(_("扣分规则"), max_length=60)  # Deduction.code in the preset
    rule_label = models.CharField(max_length=200, blank=True)
    level = models.CharField(_("越级级别"), max_length=60)  # DeductionLevel.code
    level_label = models.CharField(max_length=200, blank=True)
    points = models.PositiveIntegerField(_("扣分"))
    staff = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("扣分人员")
    )  # null: nobody held a charged role, the department alone is charged
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("扣分部门")
    )  # the case's lead department when recorded
    charged_as = models.CharField(max_length=20, blank=True)  # the preset role ("dept_head", "handler")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("越级投诉扣分")
        verbose_name_plural = _("越级投诉扣分")
        ordering = ["-recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "rule", "level", "staff"],
                condition=Q(staff__isnull=False),
                name="deduction_once_per_person",
            ),
            # NULLs are distinct in unique indexes: the department-only row needs its own.
            models.UniqueConstraint(
                fields=["case", "rule", "level"],
                condition=Q(staff__isnull=True),
                name="deduction_once_department_only",
            ),
        ]
        indexes = [models.Index(fields=["organization", "recorded_at"], name="deduction_org_time")]

    def __str__(self) -> str:
        charged = self.staff_id or f"department {self.department_id}"
        return f"{self.case_id} {self.rule}/{self.level} -{self.points} ({charged})"
