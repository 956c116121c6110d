"""What the English pages print around the data: codes kept in events in words, an edit's
fields by their names, rates and KPI definitions with English punctuation, a preset rule's
source without file names — and the same in Chinese as before."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from huiyin.cases.models import Category, Event
from huiyin.cases.templatetags.huiyin_cases import case_field_label, case_field_value, event_value
from huiyin.core.rates import Rate
from huiyin.policy import kpi_text
from huiyin.policy.presets import load_preset
from huiyin.policy.services import presets_dir
from huiyin.policy.sources import shown


def test_event_codes_read_in_words_in_either_language():
    escalated = Event(kind="escalated", data={"reason": "major"})
    no_contact = Event(kind="callback_no_contact", data={"no_contact_reason": "anonymous"})
    typed = Event(kind="returned", data={"reason": "不属本单位职责"})
    with translation.override("zh-hans"):
        assert event_value(escalated, "reason") == "重大事项"
        assert event_value(no_contact, "no_contact_reason") == "匿名反映，未留联系电话"
    with translation.override("en"):
        assert event_value(escalated, "reason") == "major matter"
        assert event_value(Event(kind="escalated", data={"reason": "overdue"}), "reason") == "overdue"
        assert event_value(typed, "reason") == "不属本单位职责"  # what a person wrote: as written


@pytest.mark.django_db
def test_an_edits_fields_and_values_read_by_their_names(org):
    category = Category.objects.create(organization=org, name="噪音扰民")
    with translation.override("en"):
        assert case_field_label("title") == "Title"
        assert case_field_value("complaint", "nature") == "Complaint"
        assert case_field_value(category.pk, "category_id") == "噪音扰民"
        assert case_field_value("", "location") == "—"
    with translation.override("zh-hans"):
        assert case_field_label("title") == "标题" and case_field_label("category_id") == "分类"


def test_punctuation_follows_the_language():
    label = Template('{% load i18n %}{% trans "理由" %}{% trans "：" context "label" %}x')
    paren = Template('{% load i18n %}a{% trans "（" context "paren" %}b{% trans "）" context "paren" %}')
    preset = load_preset(presets_dir() / "city_hotline.yaml")
    kpi = next(k for k in preset.kpis if k.code == "callback_rate")
    with translation.override("en"):
        assert str(Rate(8, 10)) == "80.0% (8/10)" and str(Rate(0, 0)) == "— (0/0)"
        assert label.render(Context()) == "Reason: x" and paren.render(Context()) == "a (b)"
        assert "。" not in kpi_text.definition(kpi) and kpi_text.definition(kpi).endswith(".")
    with translation.override("zh-hans"):
        assert str(Rate(8, 10)) == "80.0%（8/10）"
        assert label.render(Context()) == "理由：x" and paren.render(Context()) == "a（b）"
        assert kpi_text.definition(kpi).endswith("。")


def test_a_rules_source_names_no_files():
    source = "seeds/000_e82992a73faf22c8.txt 行 27–28；SPEC F50；issue 16 标准指标集；POLICY-REFERENCE.md"
    with translation.override("zh-hans"):
        assert shown(source) == "本单位制度原文第 27–28 行；回音产品规格；标准指标集；常见地方规定（回音整理）"
    with translation.override("en"):
        text = shown(source)
        assert "seeds/" not in text and "SPEC" not in text and ".md" not in text
        assert text.startswith("the organisation's rulebook, line 27–28")
