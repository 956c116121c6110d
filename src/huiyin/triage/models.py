"""Triage records: the versions of an organisation's model, and what was suggested at each
intake against what the clerk chose (the corrections the next training learns from).

A model itself is a file under ``HUIYIN_DATA_DIR/triage/`` (never in the database, never in
the repository); its row keeps the file's name and SHA-256, the metrics on the held-back
split and a summary of the training data (counts per label, sources — never a text)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Case, Category
from huiyin.core.states import StatusTable
from huiyin.orgs.models import Department, Organization


class ModelStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("在用")
    RETIRED = "retired", _("已停用")
    REJECTED = "rejected", _("未采用（不如在用模型）")
    REFUSED = "refused", _("训练未完成")


# A new row is created in service, rejected or refused; in service ↔ retired (a newer model
# replaced it, or a rollback brought it back).
MODEL_STATUSES = StatusTable(
    ModelStatus,
    {ModelStatus.IN_SERVICE: {ModelStatus.RETIRED}, ModelStatus.RETIRED: {ModelStatus.IN_SERVICE}},
)


class TriageModel(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(_("版本"))
    status = models.CharField(_("状态"), max_length=12, choices=ModelStatus.choices)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # Held-back split: {"macro_f1", "accuracy", "n", "ms_per_case", "current_macro_f1"}.
    metrics = models.JSONField(default=dict, blank=True)
    # Training data: {"source", "files", "rows", "skipped", "labels": {label: n}, "corrections"}.
    summary = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)  # why it was refused or rejected, in words
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("分类模型")
        verbose_name_plural = _("分类模型")
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="triage_model_version_unique"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status="in_service"),
                name="triage_one_model_in_service",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class Suggestion(models.Model):
    """What triage suggested for one intake form (its ``intake_token``), and what the clerk
    did: accepted a suggestion with the keystroke, and the category the case was finally
    registered with (or edited to), the department it was dispatched to. No text is kept:
    the case has it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    intake_token = models.CharField(max_length=64)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    model_version = models.PositiveIntegerField(null=True)
    # [{"id": category id, "p": confidence}, ...] best first; departments the same.
    categories = models.JSONField(default=list)
    departments = models.JSONField(default=list)
    urgency = models.CharField(max_length=8, blank=True)
    accepted_category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL, related_name="+")
    case = models.OneToOneField(Case, null=True, on_delete=models.CASCADE, related_name="+")
    chosen_category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL, related_name="+")
    chosen_department = models.ForeignKey(Department, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("分类建议")
        verbose_name_plural = _("分类建议")
        constraints = [
            models.UniqueConstraint(fields=["organization", "intake_token"], name="triage_suggestion_token_unique")
        ]

    @property
    def top_category_id(self) -> int | None:
        return self.categories[0]["id"] if self.categories else None

    @property
    def corrected(self) -> bool:
        """The clerk chose another category than the first suggestion."""
        return self.chosen_category_id is not None and self.chosen_category_id != self.top_category_id


class TextBand(models.Model):
    """One band of a case's MinHash signature (``triage.repeats``): cases sharing a band
    with a new matter are the candidates its text is compared with."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    band = models.PositiveSmallIntegerField()
    value = models.BigIntegerField()
    received_at = models.DateTimeField()

    class Meta:
        # A band's newest cases first: a look-up reads at most ``repeats.PER_BAND`` entries of
        # each band, however many old cases share a common one.
        indexes = [models.Index(fields=["organization", "band", "value", "-received_at"], name="triage_band_newest")]


class HotCluster(models.Model):
    """A group of similar cases (``triage.hot``): the connected cases whose texts overlap by
    ``hot.SIMILAR`` or more and were received within ``hot.LINK_DAYS`` of each other. Kept
    by the event bus as cases are registered or edited; the hot-issues page ranks the
    clusters of a window from these rows, never by clustering the ledger again."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # The member whose text is nearest the others' (the page's representative text).
    representative = models.ForeignKey(Case, null=True, on_delete=models.SET_NULL, related_name="+")
    size = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(null=True)
    last_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("热点问题")
        verbose_name_plural = _("热点问题")


class HotMember(models.Model):
    """A case in a hot cluster, with what the heat index counts (received time, complainant,
    place) copied so that a window's ranking reads these rows only."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    cluster = models.ForeignKey(HotCluster, on_delete=models.CASCADE, related_name="members")
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    party_id = models.BigIntegerField(null=True)
    place = models.CharField(max_length=200, blank=True)  # the normalised location

    class Meta:
        indexes = [
            models.Index(fields=["organization", "received_at"], name="triage_hot_window"),
        ]


class LinkKind(models.TextChoices):
    RELATED = "related", _("相关")  # two matters marked as related (关联)
    MERGED = "merged", _("已合并")  # the duplicate (``case_a`` or ``case_b``) was merged into the other


class CaseLink(models.Model):
    """Two cases of one organisation marked as related: symmetric, stored once with the lower
    case id first (``low`` / ``high``), with who linked them, when and why. A merge leaves a
    link of kind ``merged`` naming which one went into which (``merged_into``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    low = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=LinkKind.choices, default=LinkKind.RELATED)
    merged_into = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(_("关联理由"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("关联案件")
        verbose_name_plural = _("关联案件")
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="triage_case_link_once"),
            models.CheckConstraint(condition=models.Q(low__lt=models.F("high")), name="triage_case_link_ordered"),
        ]
        indexes = [models.Index(fields=["high"], name="triage_case_link_high")]

    def other(self, case_id: int) -> Case:
        return self.high if self.low_id == case_id else self.low


class IntakeLink(models.Model):
    """A repeat candidate the clerk marked 关联 on an intake form not yet submitted: when the
    form's case is registered (``intake_token``), the two are linked (``links.links_on_registered``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    intake_token = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["intake_token", "case"], name="triage_intake_link_once")]
        indexes = [models.Index(fields=["organization", "intake_token"], name="triage_intake_link_token")]
