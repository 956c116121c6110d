"""The reception's forms: they parse and bound what is typed; the rules (published periods,
capacity, the representatives' cap, the identity check) are the services', whose
field-named messages the views put back next to these fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.cases.forms import category_select
from huiyin.cases.models import Category, Gender, Nature
from huiyin.core.forms import StyledForm, VersionField
from huiyin.core.validators import NOTE_MAX
from huiyin.orgs.models import Department, Staff
from huiyin.portal.forms import INPUT

from .models import BookedVia, Room, Weekday

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class RoomForm(StyledForm):
    name = forms.CharField(label=_("接待室名称"), max_length=240)
    location = forms.CharField(label=_("地点"), max_length=800, required=False)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    version = VersionField()


class RoomAddForm(StyledForm):
    name = forms.CharField(label=_("接待室名称"), max_length=240)
    location = forms.CharField(label=_("地点"), max_length=800, required=False)


class HoursForm(StyledForm):
    room = forms.ModelChoiceField(label=_("接待室"), queryset=Room.objects.none())
    weekdays = forms.TypedMultipleChoiceField(
        label=_("星期"), choices=Weekday.choices, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    starts = forms.TimeField(label=_("开始时间"), widget=TIME)
    ends = forms.TimeField(label=_("结束时间"), widget=TIME)
    slot_minutes = forms.IntegerField(label=_("每段分钟数"), initial=30, min_value=1)
    capacity = forms.IntegerField(label=_("每段名额"), initial=2, min_value=1)
    valid_from = forms.DateField(label=_("起始日期"), widget=DATE)
    valid_until = forms.DateField(label=_("截止日期（可不填）"), required=False, widget=DATE)

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["room"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Room.objects.filter(organization_id=organization_id, active=True)
        self.fields["weekdays"].widget.attrs["class"] = "form-check-input"


class HoursEditForm(StyledForm):
    """A row of published hours changed in place (its room and day of the week stay)."""

    starts = forms.TimeField(label=_("开始时间"), widget=TIME)
    ends = forms.TimeField(label=_("结束时间"), widget=TIME)
    slot_minutes = forms.IntegerField(label=_("每段分钟数"), min_value=1)
    capacity = forms.IntegerField(label=_("每段名额"), min_value=1)
    valid_until = forms.DateField(label=_("截止日期（可不填）"), required=False, widget=DATE)
    version = VersionField()  # the row's, when the page was made (core.versions)


class HoursEndForm(StyledForm):
    last_day = forms.DateField(label=_("最后一天"), widget=DATE)


class SessionForm(StyledForm):
    room = forms.ModelChoiceField(label=_("接待室"), queryset=Room.objects.none())
    date = forms.DateField(label=_("日期"), widget=DATE)
    starts = forms.TimeField(label=_("开始时间"), widget=TIME)
    ends = forms.TimeField(label=_("结束时间"), widget=TIME)
    slot_minutes = forms.IntegerField(label=_("每段分钟数"), initial=30, min_value=1)
    capacity = forms.IntegerField(label=_("每段名额"), initial=1, min_value=1)
    topic = forms.CharField(label=_("主题"), max_length=480)
    departments = forms.ModelMultipleChoiceField(
        label=_("参加部门"), queryset=Department.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        room = self.fields["room"]
        departments = self.fields["departments"]
        assert isinstance(room, forms.ModelChoiceField) and isinstance(departments, forms.ModelMultipleChoiceField)
        room.queryset = Room.objects.filter(organization_id=organization_id, active=True)
        departments.queryset = Department.objects.filter(organization_id=organization_id)
        departments.widget.attrs["class"] = "form-check-input"


class LeaderDayForm(SessionForm):
    leader = forms.ModelChoiceField(label=_("接待领导"), queryset=Staff.objects.none())

    def __init__(self, *args, organization_id: int, leaders: list[Staff], **kwargs):
        super().__init__(*args, organization_id=organization_id, **kwargs)
        field = self.fields["leader"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Staff.objects.filter(pk__in=[s.pk for s in leaders])


class JointForm(SessionForm):
    case_numbers = forms.CharField(
        label=_("相关案件编号"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        help_text=_("每行或以逗号分隔一个编号；所涉承办、协办部门自动列为参加部门。"),
    )

    def numbers(self) -> list[str]:
        text = self.cleaned_data.get("case_numbers") or ""
        return [n.strip().upper() for n in text.replace("，", ",").replace(",", "\n").splitlines() if n.strip()]


class CloseForm(StyledForm):
    summary = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=NOTE_MAX * 4)
    version = VersionField()


class BookingForm(StyledForm):
    """A visit booked by the desk (from a call, a mail, at the counter)."""

    slot = forms.CharField(label=_("预约时段"), max_length=60, error_messages={"required": _("请选择预约时段。")})
    name = forms.CharField(label=_("来访人姓名"), max_length=240)
    phone = forms.CharField(label=_("联系电话"), max_length=40)
    email = forms.CharField(label=_("电子邮箱（可不填）"), max_length=1000, required=False)
    purpose = forms.CharField(label=_("来访事由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=NOTE_MAX * 4)
    headcount = forms.IntegerField(label=_("来访人数"), initial=1, min_value=0)
    representatives = forms.CharField(
        label=_("其他代表（多人来访，每行一人）"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
    )
    via = forms.ChoiceField(label=_("预约方式"), choices=[c for c in BookedVia.choices if c[0] != BookedVia.PORTAL])
    case = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def representative_names(self) -> list[str]:
        return _lines(self.cleaned_data.get("representatives") or "")


class RescheduleForm(StyledForm):
    slot = forms.CharField(label=_("新的时段"), max_length=60, error_messages={"required": _("请选择新的时段。")})
    version = VersionField()


class CancelForm(StyledForm):
    reason = forms.CharField(label=_("取消原因"), max_length=800)
    version = VersionField()


class VersionForm(StyledForm):
    version = VersionField()


class CheckInForm(StyledForm):
    """The arrival: the identity checked, the registration the case needs, where it goes."""

    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        required=False,
    )
    name = forms.CharField(label=_("姓名"), max_length=240, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    gender = forms.ChoiceField(label=_("性别"), choices=[("", "—"), *Gender.choices], required=False)
    age = forms.IntegerField(label=_("年龄"), required=False, min_value=0)
    affiliation = forms.CharField(label=_("工作单位"), max_length=480, required=False)
    address = forms.CharField(label=_("地址"), max_length=800, required=False)
    target = forms.CharField(label=_("登记为"), required=False, widget=forms.HiddenInput)
    nature = forms.ChoiceField(label=_("诉求性质"), choices=Nature.choices, initial=Nature.COMPLAINT)
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=Category.objects.none(), required=False, widget=category_select()
    )
    title = forms.CharField(label=_("标题（可不填）"), max_length=480, required=False)
    text = forms.CharField(label=_("来访事由"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    headcount = forms.IntegerField(label=_("来访人数"), min_value=0)
    representatives = forms.CharField(
        label=_("其他代表（每行一人）"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, required=False
    )
    new_matter = forms.BooleanField(label=_("确认为新的事项（与在办案件无关）"), required=False)
    version = VersionField()

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Category.objects.filter(organization_id=organization_id).order_by("full_name")

    def representative_names(self) -> list[str]:
        return _lines(self.cleaned_data.get("representatives") or "")


# --- the portal (phone-first) --------------------------------------------------------------------------


class PublicBookingForm(StyledForm):
    slot = forms.CharField(label=_("预约时段"), max_length=60, required=False)
    name = forms.CharField(
        label=_("姓名"), max_length=240, required=False, widget=forms.TextInput(attrs={**INPUT, "autocomplete": "name"})
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "tel", "inputmode": "tel"}),
    )
    purpose = forms.CharField(
        label=_("来访事由"), max_length=NOTE_MAX * 4, required=False, widget=forms.Textarea(attrs={**INPUT, "rows": 4})
    )
    headcount = forms.IntegerField(
        label=_("来访人数"),
        initial=1,
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={**INPUT, "inputmode": "numeric"}),
    )
    representatives = forms.CharField(
        label=_("其他代表（多人来访时填写，每行一人）"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={**INPUT, "rows": 2}),
    )
    consent = forms.BooleanField(label=_("我已阅读并同意上面的个人信息处理说明"), required=False)
    challenge = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    solution = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].widget.attrs["class"] = "form-check-input"

    def full_clean(self) -> None:
        """The hidden challenge's errors stay on it (next to the button), as on the portal's form."""
        forms.Form.full_clean(self)

    def representative_names(self) -> list[str]:
        return _lines(self.cleaned_data.get("representatives") or "")


class ManageLookupForm(StyledForm):
    """The visitor's own booking: its number and the code the confirmation carried."""

    code = forms.CharField(
        label=_("预约号"), max_length=40, required=False, widget=forms.TextInput(attrs={**INPUT, "autocomplete": "off"})
    )
    manage_code = forms.CharField(
        label=_("管理码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "off"}),
    )


class ManageChangeForm(StyledForm):
    """Cancel (with a reason, optional) or move to another period."""

    slot = forms.CharField(label=_("新的时段"), max_length=60, required=False)
    reason = forms.CharField(
        label=_("取消原因（可不填）"), max_length=800, required=False, widget=forms.TextInput(attrs=INPUT)
    )
