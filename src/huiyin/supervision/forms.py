"""Forms parse and shape input; the rules live in services, whose field-named errors
the views put back on these forms."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiyin.core.forms import StyledForm
from huiyin.orgs.models import Department

from .models import NoticeKind
from .selectors import BoardStatus

STATUS_CHOICES = [
    ("", _("全部")),
    (BoardStatus.SUPERVISED, _("督办中")),
    (BoardStatus.WARNED, _("预警")),
    (BoardStatus.OVERDUE, _("已逾期")),
]
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _departments(organization_id: int):
    return Department.objects.filter(organization_id=organization_id).order_by("sort_order", "name")


class BoardFilterForm(StyledForm):
    department = forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.none(), required=False)
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.queryset = _departments(organization_id)


class IssueForm(StyledForm):
    case_number = forms.CharField(label=_("案件编号"), max_length=20)
    kind = forms.ChoiceField(label=_("督办类型"), choices=NoticeKind.choices, initial=NoticeKind.ROUTINE)
    department = forms.ModelChoiceField(label=_("督办部门"), queryset=Department.objects.none())
    due_at = forms.DateTimeField(
        label=_("反馈期限"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    requirement = forms.CharField(label=_("督办要求"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.queryset = _departments(organization_id)
        if not self.is_bound and "due_at" not in self.initial:
            soon = timezone.localtime() + timedelta(days=3)
            self.initial["due_at"] = soon.replace(minute=0, second=0, microsecond=0)


class AnswerForm(StyledForm):
    answer = forms.CharField(label=_("反馈内容"), widget=forms.Textarea(attrs={"rows": 4}))


class CloseForm(StyledForm):
    note = forms.CharField(label=_("销号说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewDoneForm(StyledForm):
    note = forms.CharField(label=_("复查说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    as_of = forms.DateTimeField(required=False, widget=forms.HiddenInput)
