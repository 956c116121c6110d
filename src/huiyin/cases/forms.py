"""Forms parse and shape input; the business rules live in services/validation,
whose field-named errors the views put back on these forms."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from huiyin.core import crypto
from huiyin.core.errors import ValidationFailed
from huiyin.core.forms import StyledForm
from huiyin.core.pinyin import search_key
from huiyin.core.validators import form_version
from huiyin.core.widgets import GroupedSelect
from huiyin.orgs.models import Department, Staff

from . import actions
from .models import Category, Channel, Gender, Nature, Urgency
from .selectors import KEYWORD_MAX, PAGE_MAX, LedgerFilters
from .services import SATISFACTION, IntakeInput, PartyInput
from .workflow import CaseState, complainant_kind_name, receiving_office_name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


def _model_choice(field: forms.Field) -> forms.ModelChoiceField:
    """A field the form declares as a model choice, to set its organisation's queryset."""
    assert isinstance(field, forms.ModelChoiceField)
    return field


def _categories(org_id: int):
    return Category.objects.filter(organization_id=org_id).order_by("full_name")


def _category_path(category: Category) -> list[str]:
    return (category.full_name or category.name).split("/")


def category_select() -> GroupedSelect:
    """The category tree as a select grouped by top-level category (the no-script form); the
    script (huiyin/pickers.js, ``data-tree-picker``) makes it a searchable tree: type part of
    a name or its pinyin initials (``ldgx`` for 劳动关系), arrows and Enter to pick; a match is
    listed under its parents."""
    return GroupedSelect(
        attrs={
            "data-tree-picker": "",
            "data-placeholder": _("输入名称或拼音首字母筛选"),
            "data-empty-text": _("没有匹配的分类"),
        },
        group=lambda c: _category_path(c)[0],
        label=lambda c: "/".join(_category_path(c)[1:]) or c.name,
        option_data=lambda c: {
            "full": "/".join(_category_path(c)),
            "depth": len(_category_path(c)) - 1,
            "pinyin": search_key(_category_path(c)[-1]),  # its own name: a parent's would match every child
        },
    )


def handler_select() -> GroupedSelect:
    """Staff grouped by department, each option naming its department: the script
    (huiyin/pickers.js, ``data-follows``) offers only the department chosen in the same form."""
    return GroupedSelect(
        attrs={"data-follows": "department"},
        group=lambda s: s.department.name if s.department_id else None,
        option_data=lambda s: {"department": s.department_id or ""},
    )


def handlers(organization_id: int):
    """Who can be named handler: active staff of a department that handles cases."""
    return (
        Staff.objects.filter(organization_id=organization_id, is_active=True, department__handles_cases=True)
        .select_related("department")
        .order_by("department__sort_order", "department__name", "full_name", "username")
    )


def kinds_field(form: forms.Form, kinds: Sequence[Mapping[str, str]], *, required: bool = True) -> None:
    """The policy's kinds of complainant (``workflow.complainant_kinds``: the hospital's
    outpatients and inpatients) as a choice, each naming its receiving office; required on
    the staff forms. Without kinds the form has no such field."""
    if not kinds:
        del form.fields["complainant_kind"]
        return
    field = form.fields["complainant_kind"]
    assert isinstance(field, forms.ChoiceField)
    field.choices = [
        ("", "—"),
        *(
            (
                k["code"],
                _("%(kind)s（%(office)s接待）")
                % {"kind": complainant_kind_name(k), "office": receiving_office_name(k)},
            )
            for k in kinds
        ),
    ]
    field.required = required
    field.error_messages["required"] = _("请选择反映人类别（%(kinds)s）：决定由哪个部门接待。") % {
        "kinds": "、".join(complainant_kind_name(k) for k in kinds)
    }


class IntakeForm(StyledForm):
    # Field order is the tab order of the phone form: number first, the history appears while talking.
    party_phone = forms.CharField(label=_("来电号码"), required=False, max_length=40)
    party_name = forms.CharField(label=_("姓名"), required=False, max_length=100)
    party_anonymous = forms.BooleanField(label=_("匿名"), required=False)
    # Where e-mail notices reach the complainant (receipt, answer, rating); checked by the
    # service (cases.validation.email_error), which names the field.
    party_email = forms.CharField(
        label=_("电子邮箱"),
        required=False,
        max_length=400,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "inputmode": "email"}),
        help_text=_("填写后，受理回执、答复和评价提醒也会发送到该邮箱。"),
    )
    nature = forms.ChoiceField(label=_("性质"), choices=Nature.choices, initial=Nature.COMPLAINT)
    # Only where the organisation's policy has kinds of complainant (``kinds_field``).
    complainant_kind = forms.ChoiceField(label=_("反映人类别"), required=False, choices=())
    text = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    title = forms.CharField(
        label=_("标题"), required=False, max_length=400, help_text=_("可留空，将取诉求内容的第一句。")
    )
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=Category.objects.none(), required=False, widget=category_select()
    )
    location = forms.CharField(label=_("事发地点"), required=False, max_length=400)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    party_id_number = forms.CharField(label=_("身份证号码"), required=False, max_length=40)
    party_address = forms.CharField(label=_("联系地址"), required=False, max_length=400)
    party_affiliation = forms.CharField(label=_("工作单位"), required=False, max_length=200)
    party_gender = forms.ChoiceField(label=_("性别"), required=False, choices=[("", "—"), *Gender.choices], initial="")
    party_age = forms.IntegerField(label=_("年龄"), required=False, min_value=0, max_value=150)
    received_at = forms.DateTimeField(
        label=_("收到时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    group_size = forms.IntegerField(label=_("来访人数"), required=False, min_value=1, initial=1)
    representatives = forms.CharField(
        label=_("其他代表"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一人：姓名 电话"),
    )
    forwarded_by = forms.CharField(label=_("转办单位"), required=False, max_length=200)
    forwarded_ref = forms.CharField(label=_("转办文号"), required=False, max_length=100)
    attachments = MultipleFileField(label=_("附件"), required=False)
    new_matter = forms.BooleanField(
        label=_("确认为新的事项"),
        required=False,
        help_text=_("该号码今天已有在办案件、但这次反映的是另一件事时勾选。"),
    )
    intake_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organization_id: int, channel: str, kinds: Sequence[Mapping[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        _model_choice(self.fields["category"]).queryset = _categories(organization_id)
        kinds_field(self, kinds)
        if not self.is_bound:
            self.initial["intake_token"] = uuid.uuid4().hex
        if channel == Channel.PHONE:
            self.fields["party_phone"].widget.attrs.update({"autofocus": True, "inputmode": "tel"})
        else:
            self.fields["party_phone"].label = _("联系电话")

    def to_input(self) -> IntakeInput:
        d = self.cleaned_data
        reps = []
        for line in (d.get("representatives") or "").splitlines():
            parts = line.split()
            if parts:
                reps.append(PartyInput(name=parts[0], phone=parts[1] if len(parts) > 1 else ""))
        return IntakeInput(
            channel=self.channel,
            nature=d["nature"],
            title=d.get("title") or "",
            text=d.get("text") or "",
            party=self.party_input(),
            category_id=d["category"].pk if d.get("category") else None,
            urgency=d["urgency"],
            location=d.get("location") or "",
            received_at=d.get("received_at"),
            group_size=d.get("group_size") or 1,
            representatives=reps,
            forwarded_by=d.get("forwarded_by") or "",
            forwarded_ref=d.get("forwarded_ref") or "",
            intake_token=d.get("intake_token") or None,
            new_matter=bool(d.get("new_matter")),
            complainant_kind=d.get("complainant_kind") or "",
        )

    def party_input(self) -> PartyInput:
        d = self.cleaned_data
        return PartyInput(
            name=(d.get("party_name") or "").strip(),
            phone=d.get("party_phone") or "",
            id_number=(d.get("party_id_number") or "").strip(),
            address=d.get("party_address") or "",
            affiliation=d.get("party_affiliation") or "",
            anonymous=bool(d.get("party_anonymous")),
            email=(d.get("party_email") or "").strip(),
            gender=d.get("party_gender") or "",
            age=d.get("party_age"),
        )


class ContactForm(StyledForm):
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.PHONE)
    text = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    intake_token = forms.CharField(widget=forms.HiddenInput, required=False)


class EditForm(StyledForm):
    title = forms.CharField(label=_("标题"), max_length=400, required=False)
    text = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    nature = forms.ChoiceField(label=_("性质"), choices=Nature.choices)
    complainant_kind = forms.ChoiceField(label=_("反映人类别"), required=False, choices=())
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=Category.objects.none(), required=False, widget=category_select()
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices)
    urgency_reason = forms.CharField(
        label=_("调低理由"),
        required=False,
        max_length=2000,
        help_text=_("紧急程度是按关键词自动提高的，调低时必填。"),
    )
    location = forms.CharField(label=_("事发地点"), max_length=400, required=False)
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organization_id: int, kinds: Sequence[Mapping[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        _model_choice(self.fields["category"]).queryset = _categories(organization_id)
        kinds_field(self, kinds)

    def clean_version(self) -> int:
        try:
            return form_version(self.cleaned_data.get("version"))
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc


class ActionBoundField(forms.BoundField):
    """A field of the action form as one action's panel shows it: ``id_<action>-<name>``."""

    def __init__(self, form: forms.Form, field: forms.Field, name: str, action: str):
        self.action = action  # first: BoundField.__init__ reads auto_id
        super().__init__(form, field, name)

    @property
    def auto_id(self) -> str:
        return f"id_{self.action}-{self.html_name}"


# The ActionForm fields an action spec reads become its input under this name, if renamed.
KWARG_OF = {"reaccept_ground": "ground"}
DATETIME_FIELDS = frozenset({"due_at", "replied_at", "requested_at"})
LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ActionForm(StyledForm):
    """One form for every lifecycle action; each action reads the fields it needs."""

    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    ground = forms.CharField(label=_("不予受理理由"), required=False)
    reaccept_ground = forms.CharField(label=_("不再受理理由"), required=False)
    refer_to = forms.CharField(label=_("告知其向何机关、单位反映"), required=False)
    to_body = forms.CharField(label=_("转送单位"), required=False)
    returned_to = forms.CharField(label=_("退回至"), required=False)
    reply = forms.CharField(label=_("答复内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    remedy = forms.CharField(
        label=_("补救措施（告知反映人采取何种补救措施）"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    method = forms.ChoiceField(
        label=_("答复方式"),
        required=False,
        choices=[
            ("phone", _("电话")),
            ("letter", _("书面")),
            ("sms", _("短信")),
            ("in_person", _("当面")),
            ("portal", _("网上")),
        ],
    )
    replied_at = forms.DateTimeField(label=_("答复时间（空为现在）"), required=False, widget=LOCAL_DATETIME)
    outcome = forms.ChoiceField(label=_("处理结果"), required=False)
    proposal = forms.CharField(label=_("拟办意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    responsible_unit = forms.CharField(label=_("责任单位"), required=False)
    comments = forms.CharField(label=_("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # The complainant's kind where the case's policy has kinds and the intake did not record
    # it: a dispatch needs it (``handling.forms`` keeps it only then).
    complainant_kind = forms.ChoiceField(label=_("反映人类别"), required=False, choices=())
    department = forms.ModelChoiceField(label=_("主办部门"), queryset=Department.objects.none(), required=False)
    assisting = forms.ModelMultipleChoiceField(label=_("协办部门"), queryset=Department.objects.none(), required=False)
    handler = forms.ModelChoiceField(
        label=_("承办人"), queryset=Staff.objects.none(), required=False, widget=handler_select()
    )
    instructions = forms.CharField(label=_("交办意见"), required=False)
    due_at = forms.DateTimeField(label=_("办理时限（可空）"), required=False, widget=LOCAL_DATETIME)
    satisfaction = forms.ChoiceField(
        label=_("回访满意度"),
        required=False,
        choices=[
            ("", "—"),
            (SATISFACTION[0], _("满意")),
            (SATISFACTION[1], _("基本满意")),
            (SATISFACTION[2], _("不满意")),
        ],
    )
    callback_note = forms.CharField(label=_("回访情况"), required=False)
    confirmed = forms.BooleanField(label=_("反映人已确认处理结果"), required=False)
    confirmation_note = forms.CharField(label=_("确认方式和情况"), required=False)
    requested_at = forms.DateTimeField(label=_("请求时间（空为现在）"), required=False, widget=LOCAL_DATETIME)
    decision = forms.ChoiceField(label=_("结论"), required=False)
    opinion = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # The case version the page was made for: every action checks it (a stale or garbled
    # form is refused, never run unchecked). Parsed in clean() into a whole number.
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organization_id: int, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(organization_id=organization_id, handles_cases=True)
        _model_choice(self.fields["department"]).queryset = departments
        _model_choice(self.fields["assisting"]).queryset = departments
        _model_choice(self.fields["handler"]).queryset = handlers(organization_id)
        # A field an action shows narrowed (sign-for: the lead department's staff), by action
        # and field name; filled by the actions' customize_form hooks. Posted values are still
        # checked by the services.
        self.narrowed: dict[tuple[str, str], forms.Field] = {}
        # Each app's actions fill in their lists (grounds, outcomes, bodies) for this case.
        for customize in dict.fromkeys(s.customize_form for s in actions.all_specs() if s.customize_form):
            customize(self, case)

    def clean(self) -> dict:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data; the stub allows None for overrides
        try:
            data["version"] = form_version(self.data.get("version"))
        except ValidationFailed as exc:
            self.add_error(None, exc.message)
        return data

    def fields_for(self, action: str) -> list[ActionBoundField]:
        """The fields an action's panel shows (narrowed where an action narrows them), with
        ids of their own: several actions' panels on one page show the same field."""
        spec = actions.spec_for(action)
        if spec is None:
            return []
        # A field the case's policy does not ask for (customize_form removed it) is not shown.
        return [
            ActionBoundField(self, self.narrowed.get((action, name)) or self.fields[name], name, action)
            for name in spec.form_fields
            if name in self.fields
        ]

    def kwargs_for(self, action: str) -> dict:
        d = self.cleaned_data
        kwargs: dict = {}
        spec = actions.spec_for(action)
        for name in spec.form_fields if spec else ():
            value = d.get(name)
            if name in DATETIME_FIELDS or name == "confirmed":
                kwargs[KWARG_OF.get(name, name)] = value or (False if name == "confirmed" else None)
            else:
                kwargs[KWARG_OF.get(name, name)] = value or ""
        if "method" in kwargs and not kwargs["method"]:
            kwargs["method"] = "phone"
        if action in ("dispatch", "redispatch"):
            kwargs = {
                "department_id": d["department"].pk if d.get("department") else 0,
                "assisting_ids": [x.pk for x in d.get("assisting") or []],
                "handler_id": d["handler"].pk if d.get("handler") else None,
                "instructions": d.get("instructions") or "",
                "due_at": d.get("due_at"),
                "complainant_kind": d.get("complainant_kind") or "",
            }
        if action == "sign_for":
            kwargs = {"handler_id": d["handler"].pk if d.get("handler") else None}
        kwargs["expected_version"] = d["version"]
        return kwargs


class LedgerFilterForm(StyledForm):
    q = forms.CharField(label=_("关键词"), required=False, max_length=KEYWORD_MAX)
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", _("全部渠道")), *Channel.choices])
    nature = forms.ChoiceField(label=_("性质"), required=False, choices=[("", _("全部性质")), *Nature.choices])
    state = forms.ChoiceField(label=_("状态"), required=False)
    category = forms.ModelChoiceField(
        label=_("分类"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("全部分类"),
        widget=category_select(),
    )
    department = forms.ModelChoiceField(
        label=_("主办部门"), queryset=Department.objects.none(), required=False, empty_label=_("全部部门")
    )
    date_from = forms.DateField(label=_("起"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("止"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(
        label=_("页码"), required=False, min_value=1, max_value=PAGE_MAX, widget=forms.HiddenInput
    )
    # A page counted from the end (1: the last page): the last pages of a long ledger.
    end = forms.IntegerField(
        label=_("倒数页码"), required=False, min_value=1, max_value=PAGE_MAX, widget=forms.HiddenInput
    )

    # The keyword in links, encrypted (crypto.seal): the search box is a POST that
    # redirects to the list with ``qx`` instead of ``q``, so a caller's name or number typed
    # there never lands in a URL, an access log, a Referer or the browser's history.
    qx = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._keyword_lost = False
        if self.is_bound and self.data.get("qx") and not self.data.get("q"):
            keyword = crypto.unseal(str(self.data["qx"])[:2000])
            self._keyword_lost = keyword is None
            data = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
            if not isinstance(self.data, QueryDict):
                data.update(self.data)
            data["q"] = (keyword or "")[:KEYWORD_MAX]
            self.data = data
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)  # declared so above
        state.choices = [("", _("全部状态")), ("open", _("未办结")), *CaseState.choices]
        _model_choice(self.fields["category"]).queryset = _categories(organization_id)
        _model_choice(self.fields["department"]).queryset = Department.objects.filter(organization_id=organization_id)

    def clean(self):
        cleaned = super().clean()
        if self._keyword_lost:
            self.add_error("q", _("该链接中的关键词已失效，请重新输入。"))
        return cleaned

    def link_query(self) -> str:
        """The submitted filters as a link's query: the keyword encrypted (``qx``), no page."""
        query = QueryDict(mutable=True)
        for name in self.fields:
            values = self.data.getlist(name) if isinstance(self.data, QueryDict) else [self.data.get(name)]
            if name not in ("q", "qx", "page", "end") and any(values):
                query.setlist(name, [str(v) for v in values if v])
        keyword = str(self.data.get("q") or "").strip()
        if keyword:
            query["qx"] = crypto.seal(keyword)
        return query.urlencode()

    def filters(self) -> LedgerFilters:
        """The chosen filters (none where the form is unbound or refused: the page then
        names the bad filter; an export refuses it, ``core.forms.form_refusal``)."""
        if not (self.is_bound and self.is_valid()):
            return LedgerFilters()
        d = self.cleaned_data
        return LedgerFilters(
            channel=d["channel"],
            nature=d["nature"],
            state=d["state"],
            keyword=d["q"],
            category_id=d["category"].pk if d["category"] else None,
            department_id=d["department"].pk if d["department"] else None,
            date_from=d["date_from"],
            date_to=d["date_to"],
        )

    def ledger_query(self) -> tuple[LedgerFilters, int, int | None]:
        """The filters, the page number and the page counted from the end that the form asks
        for (no filter, the first page, when it is unbound or invalid)."""
        if not (self.is_bound and self.is_valid()):
            return LedgerFilters(), 1, None
        return self.filters(), self.cleaned_data["page"] or 1, self.cleaned_data["end"]
