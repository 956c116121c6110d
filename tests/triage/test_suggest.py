"""The triage interface on small generated data: it learns a separable toy set, handles
empty and very long text, never suggests a category outside the organisation's tree, and
flags urgency by the preset's own safety-keyword rule."""

from __future__ import annotations

import random

import pytest

from huiyin.cases.models import Category, Urgency
from huiyin.orgs.models import Organization
from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from huiyin.triage.services import train
from huiyin.triage.suggest import MODEL_CHARS, suggest

from .conftest import add_category
from .toy import CLASSES, rows, sentence, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(org, tree, tmp_path):
    result = train(org, [write_csv(tmp_path / "toy.csv", rows(12))])
    assert result.promoted
    return result.model


def test_learns_a_separable_toy_set(org, tree, trained):
    rng = random.Random(99)  # texts the model never saw
    right = 0
    for label in CLASSES:
        for _ in range(5):
            result = suggest("", sentence(label, rng), organization=org)
            assert result.status == "ok"
            right += result.categories[0].full_name == label
    assert right >= 33  # of 35


def test_suggestions_are_ranked_calibrated_and_explained(org, tree, trained):
    result = suggest("小区物业", "小区电梯坏了，物业不管，楼上还漏水", organization=org)
    top = result.categories[0]
    assert top.full_name == "城乡建设"
    confidences = [c.confidence for c in result.categories]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) == 3
    assert 0 < sum(confidences) <= 1.0001 and top.confidence > 0.5
    # The words that drove it are in the text and belong to the class.
    assert top.words and all(w in "小区物业 小区电梯坏了，物业不管，楼上还漏水" for w in top.words)
    assert {"物业", "电梯", "漏水", "小区"} & set(top.words)
    assert result.model_version == trained.version


def test_empty_and_very_long_text(org, tree, trained):
    empty = suggest("", "", organization=org)
    assert empty.status == "empty" and empty.categories == [] and empty.notice
    punctuation = suggest("", "。。。！！", organization=org)
    assert punctuation.status == "empty"
    long_text = "噪音污染扬尘排放。" * 20_000  # 180,000 characters
    assert len(long_text) > MODEL_CHARS
    result = suggest("", long_text, organization=org)
    assert result.status == "ok" and result.categories[0].full_name == "环境保护"
    assert result.ms < 5_000


def test_never_outside_the_tree(org, tree, trained):
    other = Organization.objects.create(code="other", name="别的单位")
    foreign = add_category(other, "环境保护")
    theirs = suggest("", "油烟噪音污染严重", organization=other)
    assert theirs.status == "untrained" and theirs.categories == []
    # A class deleted after training is never suggested; the rest still are.
    Category.objects.filter(pk=tree["环境保护"].pk).delete()
    result = suggest("", "油烟噪音污染排放，臭味扬尘", organization=org)
    ids = {c.id for c in result.categories}
    assert tree["环境保护"].pk not in ids and foreign.pk not in ids
    assert ids <= set(Category.objects.filter(organization=org).values_list("pk", flat=True))
    assert len(ids) == 3


def test_untrained_organisation_gets_urgency_only(org, tree):
    preset = load_preset(presets_dir() / "city_hotline.yaml")
    policy_activate(organization=org, preset=preset, actor=None)
    result = suggest("", "楼道里燃气泄漏，闻到很大气味", organization=org)
    assert result.status == "untrained" and result.notice and result.categories == []
    assert result.urgency.level == Urgency.URGENT and result.urgency.keyword == "燃气泄漏"
    assert "燃气泄漏" in result.urgency.reason
    assert suggest("", "发生爆炸", organization=org).urgency.level == Urgency.MAJOR
    assert suggest("", "路灯不亮", organization=org).urgency.level == Urgency.NORMAL


def test_departments_come_from_the_cases_departments_led(org, tree, departments, clerk, register, tmp_path):
    from huiyin.cases.models import Case  # noqa: PLC0415  (the test's own query)

    for _ in range(3):
        case = register(category_id=tree["环境保护"].pk, text="油烟扰民")
        Case.objects.filter(pk=case.pk).update(lead_department=departments["city"])
    case = register(category_id=tree["交通运输"].pk, text="公交")
    Case.objects.filter(pk=case.pk).update(lead_department=departments["traffic"])
    train(org, [write_csv(tmp_path / "toy.csv", rows(12))])
    result = suggest("", "饭店油烟污染，噪音扰民，排放废水", organization=org)
    assert result.departments[0].name == departments["city"].name
    assert result.departments[0].confidence > 0.5


@pytest.mark.parametrize("classes", [2, 7])
def test_one_text_at_a_time_gives_the_batch_probabilities(classes):
    # The intake form's fast path (one text, no scikit-learn call) and the batch path agree.
    from huiyin.core.chinese import prepare  # noqa: PLC0415
    from huiyin.triage.classifier import TextClassifier  # noqa: PLC0415

    data = rows(10, seed=2, labels=list(CLASSES)[:classes])
    model = TextClassifier().fit([prepare("", t) for _, t in data], [label for label, _ in data])
    texts = [prepare("", sentence(label, random.Random(5))) for label in list(CLASSES)[:classes]] + ["", "无关的话"]
    batch = model.predict_proba(texts)
    for i, text in enumerate(texts):
        assert model.predict_proba([text])[0] == pytest.approx(batch[i], abs=1e-6)  # float32 in the batch path
        assert model.analyse(text)[0] == pytest.approx(batch[i], abs=1e-6)
