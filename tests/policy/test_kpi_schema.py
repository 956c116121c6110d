"""KPIs as data: the preset's ``kpis`` name measures of one catalogue with a formula, an
on-time rule and a period rule, and the reader refuses whatever the reports could not
compute — naming file, line and key path."""

from __future__ import annotations

import re

import pytest

from huiyin.policy.presets import MEASURES, PresetError, list_presets, load_preset, load_preset_text
from huiyin.policy.services import presets_dir

PROPERTY = (presets_dir() / "property_management.yaml").read_text(encoding="utf-8")
STANDARD = {
    "intake_volume",
    "acceptance_rate",
    "dispatch_on_time_rate",
    "sign_for_on_time_rate",
    "reply_on_time_rate",
    "closure_on_time_rate",
    "closure_rate",
    "callback_rate",
    "satisfaction_rate",
    "repeat_complaint_rate",
    "send_back_rate",
    "reopen_rate",
    "handling_time_mean",
    "handling_time_p90",
    "valid_complaint_rate",
    "escalation_count",
}


@pytest.mark.parametrize("name", list_presets(presets_dir()))
def test_every_preset_has_the_standard_set(name):
    preset = load_preset(presets_dir() / f"{name}.yaml")
    codes = {k.code for k in preset.kpis}
    assert codes >= STANDARD
    for kpi in preset.kpis:
        assert kpi.numerator.measure in MEASURES
        assert kpi.period == MEASURES[kpi.numerator.measure].basis
    assert preset.statistics_return is not None
    assert [s.by for s in preset.statistics_return.sections] == ["channel", "category", "place", "department"]


KPI = """  - code: intake_volume
    label: 受理量
    formula: count
    numerator: {measure: received, label: 期间内收到的诉求件数}
    period: received
    unit: count
    source: SPEC F50；issue 16 标准指标集
"""


def _with(replacement: str) -> str:
    assert KPI in PROPERTY
    return PROPERTY.replace(KPI, replacement, 1)


@pytest.mark.parametrize(
    ("kpi", "where", "problem"),
    [
        (
            KPI.replace("measure: received,", "measure: happiness,"),
            r"kpis\[0\]\.numerator\.measure",
            'unknown measure "happiness"',
        ),
        (KPI.replace("period: received", "period: event"), r"kpis\[0\]\.period", 'by period rule "received"'),
        (
            KPI.replace("formula: count", "formula: ratio").replace("unit: count", "unit: percent"),
            r"kpis\[0\]",
            "denominator",
        ),
        (
            KPI.replace("formula: count", "formula: ratio")
            .replace("unit: count", "unit: percent")
            .replace("    period:", "    denominator: {measure: decided, label: x}\n    period:"),
            r"kpis\[0\]\.denominator\.measure",
            "a rate divides a part by its whole",
        ),
        (KPI.replace("unit: count", "unit: percent"), r"kpis\[0\]\.unit", "a count is shown in count"),
        (
            KPI.replace("measure: received,", "measure: on_time,").replace("period: received", "period: concluded"),
            r"kpis\[0\]",
            'missing required key "on_time"',
        ),
        (
            KPI.replace("    period:", "    on_time: {stage: reply}\n    period:"),
            r"kpis\[0\]\.on_time",
            "counts no deadline clocks",
        ),
        (
            KPI.replace("    period:", "    on_time: {stage: lunch}\n    period:"),
            r"kpis\[0\]\.on_time\.stage",
            'unknown stage "lunch"',
        ),
        (
            KPI.replace("formula: count", "formula: quantile").replace("unit: count", "unit: hours"),
            r"kpis\[0\]\.numerator\.measure",
            "amount of time",
        ),
        (
            KPI.replace("formula: count", "formula: quantile")
            .replace("measure: received,", "measure: handling_seconds,")
            .replace("period: received", "period: event")
            .replace("unit: count", "unit: hours")
            .replace("    period:", "    q: 1.5\n    period:"),
            r"kpis\[0\]\.q",
            "within",
        ),
        (
            KPI.replace("    period:", "    denominator: {constant: 100, label: 户}\n    period:"),
            r"kpis\[0\]\.denominator\.constant",
            "only a ratio's denominator may be a constant",
        ),
        (
            KPI.replace("    period:", "    q: 0.5\n    period:"),
            r"kpis\[0\]\.q",
            "q is only for a quantile",
        ),
        (
            KPI.replace("measure: received,", "measure: received, constant: 5,"),
            r"kpis\[0\]\.numerator",
            "either a measure or a constant",
        ),
    ],
)
def test_refused_kpis_name_line_and_key(kpi, where, problem):
    with pytest.raises(PresetError) as caught:
        load_preset_text(_with(kpi), "property_management.yaml")
    message = str(caught.value)
    assert re.search(rf"^property_management\.yaml, line \d+, {where}: ", message), message
    assert problem in message, message


def test_statistics_return_columns_must_be_the_presets_kpis():
    text = PROPERTY.replace("columns: [intake_volume,", "columns: [happiness_rate,", 1)
    with pytest.raises(PresetError, match=r"statistics_return\.columns\[0\]: unknown KPI \"happiness_rate\""):
        load_preset_text(text, "property_management.yaml")
    text = PROPERTY.replace("columns: [intake_volume,", "columns: [handling_time_p90,", 1)
    with pytest.raises(PresetError, match="is a quantile"):
        load_preset_text(text, "property_management.yaml")


def test_a_constant_denominator_is_bounded():
    text = PROPERTY.replace("constant: 2000,", "constant: 99999999999,", 1)
    with pytest.raises(PresetError, match=r"denominator\.constant: 数值过大"):
        load_preset_text(text, "property_management.yaml")
