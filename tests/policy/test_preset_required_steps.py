"""The preset keys issue 14 added or retired: ``required_steps``, ``extension.stages`` and
``extension.latest``, and the stage keys nothing read (``stages.dispatch``, ``stages.reply``).
Each refusal names file, line and key path."""

from __future__ import annotations

import pytest

from huiyin.policy.presets import PresetError, load_preset_text

from .test_presets import BASE, preset


def test_retired_stage_keys_are_read_back_when_true_and_refused_when_false() -> None:
    assert load_preset_text(BASE).stages.sign_for is False  # older files and stored versions carry them
    with pytest.raises(PresetError) as info:
        load_preset_text(BASE.replace("  dispatch: true", "  dispatch: false"), "old.yaml")
    assert info.value.path == "stages.dispatch" and info.value.line == 7 and "no longer a switch" in str(info.value)
    assert "dispatch" not in load_preset_text(BASE).to_dict()["stages"]


@pytest.mark.parametrize(
    ("block", "path", "words"),
    [
        ("  stages: [reply]\n", "extension.stages[0]", 'no "reply" deadline'),
        ("  stages: acceptance\n  latest: acceptance\n", "extension.latest", "cannot also be listed"),
        ("  latest: overall\n", "extension.latest", 'no "overall" deadline'),
        ("  stages: [weekly]\n", "extension.stages[0]", 'unknown deadline stage "weekly"'),
    ],
)
def test_an_extension_naming_a_deadline_the_preset_lacks_is_refused(block: str, path: str, words: str) -> None:
    text = BASE.replace("  second_extension_forbidden: true\n", "  second_extension_forbidden: true\n" + block)
    with pytest.raises(PresetError) as info:
        load_preset_text(text, "x.yaml")
    assert info.value.path == path and words in str(info.value)


@pytest.mark.parametrize(
    ("block", "path", "words"),
    [
        ("required_steps:\n  signed_investigation: true\n", "required_steps.signed_investigation", "stages.approval"),
        ("required_steps:\n  on_site_callback: [signature]\n", "required_steps.on_site_callback", "stages.callback"),
        ("required_steps:\n  on_site_callback: [photo]\n", "required_steps.on_site_callback[0]", "unknown callback"),
        ("required_steps:\n  helpers_named_by: mayor\n", "required_steps.helpers_named_by", 'unknown role "mayor"'),
    ],
)
def test_a_required_step_without_its_stage_or_with_an_unknown_value_is_refused(
    block: str, path: str, words: str
) -> None:
    with pytest.raises(PresetError) as info:
        load_preset_text(BASE + block, "x.yaml")
    assert info.value.path == path and words in str(info.value)


def test_the_presets_required_steps_reach_the_lifecycles_switches() -> None:
    switches = preset("construction_station").switches()
    assert switches["approval"] is True and "dispatch" not in switches
    assert switches["required_steps"] == {
        "handler_named_at_dispatch": True,
        "signed_investigation": True,
        "proposal_names_unit": True,
        "proposal_by_handler": True,
        "helpers_named_by": "leader",
        "notice_after_approval": True,
        "plan_told_before_reply": True,
    }
    assert preset("property_management").switches()["required_steps"]["on_site_callback"] == [
        "signature",
        "charges_checked",
        "attitude",
    ]
    assert preset("city_hotline").switches()["required_steps"] == {}
