"""The callback desk's filters: which callbacks the queue holds, in which order, and which
one is on the card."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Category, Channel
from huiyin.core.forms import StyledForm
from huiyin.core.validators import ID_MAX
from huiyin.orgs.models import Department

from .selectors import Due, QueueFilters, Sort

# The query keys of the filters: kept across the queue, the card and its forms.
FILTER_KEYS = ("department", "category", "due", "channel", "sort")


class QueueFilterForm(StyledForm):
    department = forms.ModelChoiceField(
        label=_("主办部门"), queryset=Department.objects.none(), required=False, empty_label=_("全部部门")
    )
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=Category.objects.none(), required=False, empty_label=_("全部分类")
    )
    due = forms.ChoiceField(
        label=_("回访期限"),
        required=False,
        choices=[
            ("", _("全部期限")),
            (Due.OVERDUE, _("已逾期")),
            (Due.TODAY, _("今天到期")),
            (Due.LATER, _("以后到期")),
        ],
    )
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", _("全部渠道")), *Channel.choices])
    sort = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[(Sort.DUE, _("期限最早的在前")), (Sort.OLDEST, _("受理最早的在前"))],
    )
    c = forms.IntegerField(label=_("当前回访"), required=False, min_value=1, max_value=ID_MAX, widget=forms.HiddenInput)

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        category = self.fields["category"]
        assert isinstance(department, forms.ModelChoiceField) and isinstance(category, forms.ModelChoiceField)
        department.queryset = Department.objects.filter(organization_id=organization_id).order_by("name")
        category.queryset = Category.objects.filter(organization_id=organization_id).order_by("full_name")

    def filters(self) -> QueueFilters:
        """The filters chosen (none where the form is unbound or refused)."""
        if not (self.is_bound and self.is_valid()):
            return QueueFilters()
        d = self.cleaned_data
        return QueueFilters(
            department_id=d["department"].pk if d["department"] else None,
            category_id=d["category"].pk if d["category"] else None,
            due=d["due"],
            channel=d["channel"],
            sort=d["sort"] or Sort.DUE,
        )

    def current(self) -> int | None:
        return self.cleaned_data.get("c") if self.is_bound and self.is_valid() else None
