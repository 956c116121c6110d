from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiyin.core import crypto
from huiyin.core.fields import EncryptedTextField
from huiyin.core.files import storage_name
from huiyin.core.personal import PersonalFields, normalize_email
from huiyin.core.validators import normalize_id_number
from huiyin.orgs.actors import OUTSIDE_KINDS, ActorKind, outside_label
from huiyin.orgs.models import Department, ExternalSystem, Organization

from .hashing import row_hash
from .workflow import CaseState, complainant_kind, complainant_kind_name, receiving_office_name


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    VISIT = "visit", _("来访")
    LETTER = "letter", _("来信")
    ONLINE = "online", _("网上")
    EMAIL = "email", _("电子邮件")
    MAILBOX = "mailbox", _("投诉信箱")
    FAX = "fax", _("传真")
    FORWARDED = "forwarded", _("上级转办")
    MEDIA = "media", _("媒体舆情")


class Nature(models.TextChoices):
    CONSULTATION = "consultation", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    HELP = "help", _("求助")
    SUGGESTION = "suggestion", _("建议")
    PRAISE = "praise", _("表扬")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    MAJOR = "major", _("重大")


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Category(models.Model):
    """Category tree (分类). ``path`` ("/3/17/") makes a subtree one prefix scan.

    ``tags``: codes the organisation's administrator gives a category (space-separated,
    e.g. ``safety_facility``) so that a preset rule written for a kind of matter
    (``when: {category: safety_facility}``) finds the office's own categories, whatever
    they are called; a category also carries its ancestors' tags (``cases.categories``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("名称"), max_length=80)
    path = models.CharField(max_length=255, blank=True, db_index=True)
    full_name = models.CharField(max_length=255, blank=True)
    tags = models.CharField(_("标签"), max_length=255, blank=True, default="")
    version = models.PositiveIntegerField(default=1)  # optimistic lock of the tags form (core.versions)

    class Meta:
        verbose_name = _("分类")
        verbose_name_plural = _("分类")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.name

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()


class PartyQuerySet(models.QuerySet):
    """Exact look-ups of encrypted values go through their keyed hashes (core.crypto)."""

    def with_phone(self, phone: str) -> PartyQuerySet:
        return self.filter(phone_hash__in=crypto.lookup_hashes(phone)) if phone else self.none()

    def with_id_number(self, id_number: str) -> PartyQuerySet:
        value = normalize_id_number(id_number)
        return self.filter(id_number_hash__in=crypto.lookup_hashes(value)) if value else self.none()

    def same_person_as(self, party: Party) -> PartyQuerySet:
        """The party and any with its ID number or its phone number: one OR of three indexed
        conditions (primary key, ``(organization, id_number_hash)``, ``(organization,
        phone_hash)``), which the planner combines as a bitmap."""
        same = models.Q(pk=party.pk)
        if party.id_number:
            same |= models.Q(id_number_hash__in=crypto.lookup_hashes(normalize_id_number(party.id_number)))
        if party.phone:
            same |= models.Q(phone_hash__in=crypto.lookup_hashes(party.phone))
        return self.filter(same)

    def with_email(self, email: str) -> PartyQuerySet:
        value = normalize_email(email)
        return self.filter(email_hash__in=crypto.lookup_hashes(value)) if value else self.none()


class Party(PersonalFields, models.Model):
    """A complainant / petitioner / caller (personal data: shown masked, stored encrypted).

    Name, phone, ID number and address are encrypted at rest (core.fields); the phone
    and the ID number also have a keyed hash for exact look-ups (``with_phone``,
    ``with_id_number``), kept by ``save``."""

    # The encrypted fields and the hash column each keeps; save() refreshes the hashes.
    HASHED = {"phone": "phone_hash", "id_number": "id_number_hash", "email": "email_hash"}

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="parties")
    name = EncryptedTextField(_("姓名"), max_length=60, blank=True)
    anonymous = models.BooleanField(_("匿名"), default=False)
    phone = EncryptedTextField(_("联系电话"), max_length=30, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    id_number = EncryptedTextField(_("身份证号码"), max_length=18, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    address = EncryptedTextField(_("地址"), max_length=200, blank=True)
    affiliation = models.CharField(_("工作单位"), max_length=120, blank=True)
    email = EncryptedTextField(_("电子邮箱"), max_length=254, blank=True)
    email_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Contact preferences (F62): no text messages when the person asked for none; the
    # language messages are written in ("": the organisation's, Chinese).
    sms_opt_out = models.BooleanField(_("不接收短信"), default=False)
    language = models.CharField(_("通知语言"), max_length=10, blank=True)
    # What a visit's registration records where the preset asks for it (来访登记: 性别、年龄).
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    age = models.PositiveSmallIntegerField(_("年龄"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the retention rule erased the personal fields (huiyin retention apply).
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = PartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("反映人")
        verbose_name_plural = _("反映人")
        indexes = [
            models.Index(fields=["organization", "phone_hash"], name="party_org_phone_hash"),
            models.Index(fields=["organization", "id_number_hash"], name="party_org_id_hash"),
            models.Index(fields=["organization", "email_hash"], name="party_org_email_hash"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.erased_at is not None:
            return str(_("个人信息已按保存期限删除"))
        return str(_("匿名")) if self.anonymous or not self.name else self.masked_name


class Case(models.Model):
    """One matter (诉求件) in the ledger; every touch is a Contact, every change an Event."""

    # Not a column: the query code in clear, set on the object by case_register for the
    # subscribers of its registration event (the receipt message); only its hash is stored.
    issued_query_code: str = ""
    # Likewise a one-use rating link in clear, for the subscribers of the event that issues it
    # (followup.services.rating_link_issue); only the token's hash is stored.
    issued_rating_link: str = ""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="cases")
    number = models.CharField(_("编号"), max_length=20)
    channel = models.CharField(_("渠道"), max_length=12, choices=Channel.choices)
    nature = models.CharField(_("性质"), max_length=12, choices=Nature.choices)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("分类"))
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    # The preset's safety keyword that raised the urgency automatically (F13), shown with it
    # wherever the urgency is; blank when a person set it. ``urgency_overridden``: staff
    # lowered a raised urgency with a reason, so the keywords no longer raise it.
    urgency_keyword = models.CharField(_("自动提高紧急程度的关键词"), max_length=40, blank=True)
    urgency_overridden = models.BooleanField(_("紧急程度已人工调整"), default=False)
    title = models.CharField(_("标题"), max_length=120)
    text = models.TextField(_("诉求内容"))
    location = models.CharField(_("事发地点"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("受理时间"))
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name=_("反映人")
    )
    co_parties = models.ManyToManyField(Party, blank=True, related_name="co_cases", verbose_name=_("其他代表"))
    group_size = models.PositiveIntegerField(_("来访人数"), default=1)
    # Who the complainant is, where the policy receives each kind in its own office (the
    # hospital: 门诊 / 住院, ``workflow.complainant_kinds``); blank under other policies, and
    # until the desk records it on a matter that came in without it (portal, API, e-mail).
    complainant_kind = models.CharField(_("反映人类别"), max_length=20, blank=True)
    forwarded_by = models.CharField(_("转办单位"), max_length=120, blank=True)
    forwarded_ref = models.CharField(_("转办文号"), max_length=60, blank=True)
    # The staff member who took the matter (首问责任人); none when the public or another
    # system registered it, which `submitter_kind` / `submitter_system` then name.
    first_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="first_contact_cases",
        verbose_name=_("首问责任人"),
    )
    submitter_kind = models.CharField(_("登记来源"), max_length=10, choices=ActorKind.choices, default=ActorKind.STAFF)
    submitter_system = models.ForeignKey(
        ExternalSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("来源系统")
    )
    lead_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_cases",
        verbose_name=_("主办部门"),
    )
    assisting_departments = models.ManyToManyField(
        Department, blank=True, related_name="assisting_cases", verbose_name=_("协办部门")
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
        verbose_name=_("承办人"),
    )
    assisting_handlers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assisted_cases", verbose_name=_("协办人")
    )
    state = models.CharField(_("状态"), max_length=20, choices=CaseState.choices, default=CaseState.REGISTERED)
    # Set when the re-review opinion is given: the matter is concluded for good and a new
    # submission on it is not re-accepted (信访工作条例 第三十五条).
    review_concluded = models.BooleanField(_("已复核终结"), default=False)
    round = models.PositiveIntegerField(_("办理轮次"), default=1)
    stage_switches = models.JSONField(default=dict, blank=True)  # the policy's stages when registered
    policy_version = models.CharField(max_length=60, blank=True)
    promised_due_at = models.DateTimeField(_("承诺办结时限"), null=True, blank=True)
    query_code_hash = models.CharField(max_length=64, blank=True)
    intake_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    search_document = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic lock for edit forms
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("诉求件")
        verbose_name_plural = _("诉求件")
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="case_number_unique")]
        indexes = [
            models.Index(fields=["organization", "-received_at", "-id"], name="case_ledger"),
            models.Index(fields=["organization", "state", "-received_at"], name="case_state"),
            models.Index(fields=["organization", "channel", "-received_at"], name="case_channel"),
            models.Index(fields=["organization", "nature", "-received_at"], name="case_nature"),
            models.Index(fields=["organization", "category", "-received_at"], name="case_category"),
            models.Index(fields=["lead_department", "-received_at"], name="case_lead_dept"),
            models.Index(fields=["handler", "state"], name="case_handler"),
            models.Index(fields=["first_contact", "state"], name="case_first_contact"),
            # The same place as a matter being typed (``triage.repeats``: ``location__iexact``);
            # without it the look-up read every open or recent case (0.2-0.75 s at a million).
            models.Index(models.F("organization"), Upper("location"), name="case_location"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def complainant_kind_label(self) -> str:
        """The complainant's kind as the case's policy names it, with its receiving office."""
        kind = complainant_kind(self.stage_switches, self.complainant_kind)
        if kind is None:
            return self.complainant_kind
        return f"{complainant_kind_name(kind)}（{receiving_office_name(kind)}）"

    @property
    def submitter_label(self) -> str:
        """Who registered the matter, for the case page: the staff member, or the way in."""
        if self.first_contact_id is not None:
            return str(self.first_contact)
        if self.submitter_kind in OUTSIDE_KINDS:
            return outside_label(self.submitter_kind, self.submitter_system)
        return str(ActorKind(self.submitter_kind).label)


class CaseSequence(models.Model):
    """Last number handed out per organisation and day; bumped by one upsert."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day"], name="case_sequence_unique")]


class CaseRound(models.Model):
    """One handling round; reopening (重办) starts a new one and keeps this one."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    lead_department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply_text = models.TextField(blank=True)
    # The remedy (补救措施) the answer told the complainant of, where the preset wants it stated.
    remedy = models.TextField(blank=True, default="")
    reply_method = models.CharField(max_length=20, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.CharField(max_length=20, blank=True)
    # Closing with the complainant's confirmation (确认办结), where the preset wants it.
    confirmed_by_complainant = models.BooleanField(default=False)
    confirmation_note = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="case_round_unique")]


class Contact(models.Model):
    """One touch by the complainant: a call, visit, letter or message, recorded in full."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    channel = models.CharField(_("渠道"), max_length=12, choices=Channel.choices)
    party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts")
    occurred_at = models.DateTimeField(_("时间"))
    # The receiving staff member; none for a matter the public or a system submitted.
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("接待人"),
    )
    text = models.TextField(_("内容"))
    is_initial = models.BooleanField(default=False)
    intake_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A copy made when the duplicate case holding the original was merged into this one
    # (triage's merge): the original stays on its own case, this row names where it came from.
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="copies", verbose_name=_("合并自")
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["case", "occurred_at"], name="contact_case_time"),
            # The daily review's "repeat contacts of the last days" (F34).
            models.Index(fields=["occurred_at"], condition=models.Q(is_initial=False), name="contact_repeats"),
        ]


def attachment_path(instance: Attachment, filename: str) -> str:
    case = instance.case
    return f"attachments/{case.organization_id}/{case.number[:8]}/{case.number}/{storage_name(filename)}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField()
    # None when the public or a system uploaded it; the attachment's event names who.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Set when the retention rule deleted the file (huiyin retention apply); the row stays
    # for the record and the statistics, without the file and its name.
    erased_at = models.DateTimeField(null=True, blank=True)


class AppendOnly(Exception):
    pass


class Event(models.Model):
    """Append-only history. Each row carries a keyed hash (``hashing``) over its content and
    the previous row's hash for the same case, so an edited or deleted row breaks the chain;
    the anchor log (``anchors``) catches a removed tail; the database refuses UPDATE and
    DELETE (``triggers``). ``audit`` verifies all of it (F82)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    round = models.PositiveIntegerField(default=1)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "staff", "public" or "system" (orgs.actors.ActorKind); "" when no one acted (timers).
    actor_kind = models.CharField(max_length=10, blank=True, default="")
    actor_system = models.ForeignKey(ExternalSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30)  # an app's event kind; labels and owners in cases.bus
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="event_case_time")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("events are append-only")

    @property
    def kind_label(self) -> str:
        from .bus import kind_label  # the bus indexes every app's kinds; models load first

        return kind_label(self.kind)

    @property
    def actor_label(self) -> str:
        if self.actor_id is not None:
            return str(self.actor)
        if self.actor_kind in OUTSIDE_KINDS:
            return outside_label(self.actor_kind, self.actor_system)
        return str(_("系统"))

    def compute_hash(self) -> str:
        """The keyed hash of this row's content and its predecessor's hash (``hashing``)."""
        return row_hash(self)


class ChainBreakReason(models.TextChoices):
    EDITED = "edited", _("事件内容与校验码不符")
    RELINKED = "relinked", _("事件缺失或次序被改动")
    TRUNCATED = "truncated", _("末尾事件被删除")
    ANCHOR = "anchor", _("与锚定记录不符")
    MISSING = "missing", _("事件全部缺失")


class ChainBreak(models.Model):
    """A case whose event chain failed the last ``huiyin audit verify`` (or an anchoring
    run): what the ledger and the case page flag. A full verification rebuilds the table,
    so deleting a row here hides a break only until the next one."""

    # The case's id, not a foreign key: a break outlives a case row removed behind our back.
    case_pk = models.BigIntegerField(unique=True)
    reason = models.CharField(max_length=20, choices=ChainBreakReason.choices)
    detected_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.case_pk}: {self.reason}"


class EventDelivery(models.Model):
    """One after-commit subscriber's work for one event, recorded in the same transaction
    as that work (``bus.dispatch_after_commit``). A retried task skips what is already
    done; two workers running the same event at once meet on the unique key, and the
    second waits for the first and then skips: each subscriber acts once per event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=80)
    delivered_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="event_delivery_once")]
