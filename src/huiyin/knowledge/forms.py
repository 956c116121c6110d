"""The knowledge base's forms: the search, and an entry as an administrator edits it. The
forms parse; the services check (empty title or text, a category of another organisation)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.cases.forms import category_select
from huiyin.cases.models import Category
from huiyin.cases.selectors import KEYWORD_MAX
from huiyin.core.forms import StyledForm, VersionField


def _categories(organization_id: int):
    return Category.objects.filter(organization_id=organization_id).order_by("full_name")


class SearchForm(StyledForm):
    q = forms.CharField(label=_("关键词"), max_length=KEYWORD_MAX, required=False)
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=Category.objects.none(), required=False, widget=category_select()
    )

    def __init__(self, *args, organization_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _categories(organization_id)


class EntryForm(StyledForm):
    title = forms.CharField(label=_("标题"), required=False, widget=forms.TextInput(attrs={"maxlength": 200}))
    body = forms.CharField(label=_("正文"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    source = forms.CharField(
        label=_("依据"),
        required=False,
        help_text=_("政策、法规或本单位制度的名称和条款，如“信访工作条例 第三十二条”。"),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("适用分类"),
        queryset=Category.objects.none(),
        required=False,
        help_text=_("不选：适用于所有事项。"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    active = forms.BooleanField(label=_("启用（办理人员可以查到）"), required=False, initial=True)

    def __init__(self, *args, organization_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["categories"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = _categories(organization_id)


class EntryEditForm(EntryForm):
    version = VersionField()  # the entry's, when the page was made (core.versions): never left out
