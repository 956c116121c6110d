"""policy.labels repeats the case app's choice labels (policy may not import cases)."""

from __future__ import annotations

from huiyin.cases.models import Channel, Nature, Urgency
from huiyin.policy.labels import CHANNEL_LABELS, NATURE_LABELS, URGENCY_LABELS
from huiyin.policy.presets import CHANNELS, NATURES, URGENCIES


def test_labels_match_the_case_choices() -> None:
    for labels, choices, preset_values in (
        (CHANNEL_LABELS, Channel, CHANNELS),
        (NATURE_LABELS, Nature, NATURES),
        (URGENCY_LABELS, Urgency, URGENCIES),
    ):
        assert {k: str(v) for k, v in labels.items()} == {k: str(v) for k, v in choices.choices}
        assert set(labels) == set(preset_values)
