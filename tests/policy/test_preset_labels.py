"""The shipped presets' short labels in the English interface: ``preset_strings.py`` is
generated from ``presets/*.yaml`` (and fails here when stale), every label has its English
translation, and the pages translate the labels when they show them — the case page's
clock panel and the policy page here, the dashboard in ``tests/reports``. A label the
administrator typed that the catalogue does not know is shown as typed."""

from __future__ import annotations

import dataclasses
import re
import typing

import pytest
from django.urls import reverse
from django.utils import translation

from huiyin.policy import preset_catalogue, presets
from huiyin.policy.labels import preset_label

from .conftest import activate, at
from .test_views import admin, clock_item, detail, hotline_case, page, panel, text  # noqa: F401 - fixtures

CHINESE = re.compile(r"[\u3400-\u9fff]")


def test_the_generated_module_is_up_to_date():
    """Regenerate in memory: a label added to or changed in presets/*.yaml needs
    ``scripts/i18n.sh`` (or ``python -m huiyin.policy.preset_catalogue``) run."""
    assert preset_catalogue.TARGET.read_text(encoding="utf-8") == preset_catalogue.render(), (
        "src/huiyin/policy/preset_strings.py is stale: run scripts/i18n.sh and translate the new entries"
    )


def test_every_text_field_of_a_preset_is_either_collected_or_left_out_on_purpose():
    """A new text field in a preset class is decided on: a short label (``LABEL_FIELDS``)
    or not (``SKIPPED``)."""
    undecided = []
    for cls in _preset_classes():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if hints[f.name] is not str or f.name in ("source", "code"):
                continue
            decided = preset_catalogue.LABEL_FIELDS.get(cls, ()) + preset_catalogue.SKIPPED.get(cls, ())
            if f.name not in decided:
                undecided.append(f"{cls.__name__}.{f.name}")
    # Codes, choices and references (stage, unit, role, channel, measure...) are no text.
    assert set(undecided) <= CODES, sorted(set(undecided) - CODES)


def _preset_classes() -> list[type]:
    """The record classes a preset is made of (``Preset`` and every class under it)."""
    found: list[type] = []
    todo: list[object] = [presets.Preset]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            if tp not in found:
                found.append(tp)
                todo.extend(typing.get_type_hints(tp).values())
        else:
            todo.extend(typing.get_args(tp))
    return found


# Text-typed fields that hold codes of the product or of the organisation, not words.
CODES = {
    "DeadlineRule.stage",
    "DeadlineRule.unit",
    "DeadlineRule.clock_from",
    "DeadlineRule.start",
    "DeadlineRule.on_holiday",
    "Duration.unit",
    "Delay.unit",
    "ChannelAcceptor.channel",
    "ChannelAcceptor.department",
    "ComplainantKind.department",
    "EscalationStep.role",
    "Extension.approver",
    "Extension.latest",
    "CallbackShare.role",
    "CallbackRules.on_dissatisfied",
    "RequiredSteps.helpers_named_by",
    "SurveyRules.every",
    "ActivityKind.every",
    "ActivityKind.led_by",
    "KpiTerm.measure",
    "OnTime.stage",
    "OnTime.open_overdue",
    "Target.op",
    "Kpi.formula",
    "Kpi.period",
    "Kpi.unit",
    "ReturnSection.by",
    "StatisticsReturn.every",
    "CalendarDay.kind",
    "Retention.unit",
    "Retention.attachments",
    "GuestReception.overrun_approver",
}


def test_every_shipped_label_reads_in_english():
    texts = [t for found in preset_catalogue.labels().values() for t in found]
    assert "承办单位签收" in texts and "按时答复率" in texts and "接听受理" in texts
    with translation.override("en"):
        untranslated = [t for t in texts if CHINESE.search(preset_label(t))]
    assert not untranslated


def test_a_label_the_catalogue_does_not_know_is_shown_as_typed():
    with translation.override("en"):
        assert preset_label("本单位自定的环节") == "本单位自定的环节"
        assert preset_label("") == ""  # not the catalogue's header
        assert preset_label("承办单位签收") == "Signed for by the handling unit"
    with translation.override("zh-hans"):
        assert preset_label("承办单位签收") == "承办单位签收"


@pytest.mark.django_db
def test_the_clock_panel_names_the_presets_deadline_in_the_readers_language(client, hotline_case, desk_clerk):  # noqa: F811
    client.cookies["django_language"] = "en"
    item = clock_item(panel(page(client, desk_clerk, detail(hotline_case), at(2026, 3, 2, 10, 0, 45))), "dispatch")
    assert "Dispatch of 96310 phone complaints" in item
    assert "96310 电话投诉派遣" not in item
    client.cookies["django_language"] = "zh-hans"
    item = clock_item(panel(page(client, desk_clerk, detail(hotline_case), at(2026, 3, 2, 10, 0, 45))), "dispatch")
    assert "96310 电话投诉派遣" in item
    assert "Dispatch of 96310 phone complaints" not in item


@pytest.mark.django_db
def test_the_policy_page_shows_the_running_policys_labels_in_english(client, org, admin):  # noqa: F811
    activate(org, "city_hotline")
    client.cookies["django_language"] = "en"
    html = text(page(client, admin, reverse("policy:index")))
    assert "12345/96310 city management hotline" in html
    assert "Dispatch of 96310 phone complaints" in html and "Case lead (duty head)" in html
    assert "96310 电话投诉派遣" not in html and "办案负责人（值班负责人）" not in html
