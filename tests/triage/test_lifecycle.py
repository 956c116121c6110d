"""The model lifecycle: ``huiyin triage train / evaluate / rollback`` on generated files,
masking before anything enters a model file, bad files refused with the model in service
kept, a worse model not put into service, training from the organisation's own cases as a
task, and a corrupt or missing file switching triage off while intake goes on."""

from __future__ import annotations

import io
import json

import joblib
import pytest
from django.core.management import CommandError, call_command

from huiyin.cases.workflow import CaseState
from huiyin.triage import store
from huiyin.triage.models import ModelStatus, TriageModel
from huiyin.triage.suggest import availability, suggest
from huiyin.triage.tasks import retrain_task

from .toy import ID_NUMBERS, NAMES, PHONES, rows, write_csv

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("huiyin_triage", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def in_service(org) -> TriageModel:
    return TriageModel.objects.get(organization=org, status=ModelStatus.IN_SERVICE)


@pytest.fixture
def toy_csv(tmp_path):
    return write_csv(tmp_path / "toy.csv", rows(12, seed=1))


def test_train_and_evaluate_from_files(org, tree, tmp_path, toy_csv, capsys):
    out, _err = run("train", "--data", str(toy_csv), "--org", org.code)
    result = json.loads(out)
    assert result["status"] == "in service" and result["version"] == 1
    assert result["macro_f1"] >= 0.9
    progress = capsys.readouterr().err
    assert "[triage] reading 1 file(s)" in progress and "model v1 in service" in progress
    model = in_service(org)
    assert model.summary["rows"] == 84 and model.summary["labels"]["环境保护"] == 12
    assert model.summary["files"] == ["toy.csv"] and model.metrics["n"] == model.summary["held_back"]
    assert store.path_of(model).is_file() and tmp_path in store.path_of(model).parents

    test_file = write_csv(tmp_path / "test.csv", rows(6, seed=7))
    line, _ = run("evaluate", "--data", str(test_file))  # one organisation: --org may be left out
    assert line.count("\n") == 1
    figures = json.loads(line)
    assert figures["n"] == 42 and figures["macro_f1"] >= 0.9 and figures["accuracy"] >= 0.9
    assert 0 < figures["ms_per_case"] < 200


def test_text_seg_and_title_detail_columns(org, tree, tmp_path):
    data = rows(8, seed=3)
    seg = tmp_path / "seg.csv"
    seg.write_text(
        "row,text_seg,label\n" + "".join(f"{i}, {' '.join(text)} ,{label}\n" for i, (label, text) in enumerate(data)),
        encoding="utf-8",
    )
    parts = tmp_path / "parts.csv"
    parts.write_text(
        "id,title,detail,text,label\n" + "".join(f"{i},{t[:6]},{t[6:]},,{lab}\n" for i, (lab, t) in enumerate(data)),
        encoding="utf-8-sig",
    )
    out, _ = run("train", "--data", str(seg), "--data", str(parts))
    assert json.loads(out)["status"] == "in service"
    assert in_service(org).summary["rows"] == 2 * len(data)


def test_model_file_holds_no_personal_data(org, tree, toy_csv, clerk, register, departments):
    # The toy texts carry phones, ID numbers and names; a closed case names its caller too.
    for i in range(6):
        case = register(category_id=tree["交通运输"].pk, text=f"欧阳娜娜反映公交车站拥堵{i}，红绿灯坏了")
        case.party.name = "欧阳娜娜"
        case.party.save()
    run("train", "--data", str(toy_csv))
    raw = store.path_of(in_service(org)).read_bytes()
    vocabulary = " ".join(store.load(in_service(org)).classifier.vocabulary())
    for secret in [*PHONES, *ID_NUMBERS, *NAMES, "13812345678"]:
        assert secret.encode() not in raw and secret not in vocabulary, secret
    for digits in ("12345678", "84561234", "19900307"):
        assert digits.encode() not in raw
    for name in NAMES:
        assert name[1:].encode() not in raw  # not even the given name without the surname
    assert "phone" in vocabulary  # what was there is learnt as a placeholder


def test_masking_applies_to_the_cases_names(org, tree):
    from huiyin.triage.services import _case_text  # noqa: PLC0415  (the helper under test)

    class Party:
        name = "司马相如"

    class Case:
        title, text, location, party_id, party = "投诉", "司马相如说电话13912345678", "幸福路", 1, Party()

        class co_parties:  # noqa: N801
            @staticmethod
            def all():
                return []

    assert _case_text(Case()) == "投诉 某某说电话<phone> 幸福路"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("label,words\n城乡建设,物业\n", "缺少列"),
        ("text\n物业小区\n", "label"),
        ("label,text\n不存在的分类,物业小区\n城乡建设,小区电梯\n", "不是本单位的分类"),
        ("label,text\n" + "城乡建设,小区电梯物业\n" * 10, "只有一个分类"),
        ("label,text\n城乡建设,小区电梯\n环境保护,油烟噪音\n", "至少需要 5 条样本"),
        ("label,text\n,\n", "没有可用的行"),
    ],
)
def test_bad_training_files_are_refused_and_the_model_stays(org, tree, tmp_path, toy_csv, content, message):
    run("train", "--data", str(toy_csv))
    before = in_service(org)
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        run("train", "--data", str(bad))
    assert message in str(refused.value) and "unchanged" in str(refused.value)
    assert TriageModel.objects.filter(organization=org).count() == 1
    assert in_service(org).pk == before.pk and availability(org.pk)[0] == "ok"


def test_unreadable_and_missing_files(org, tree, tmp_path):
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 50)
    with pytest.raises(CommandError, match="编码"):
        run("train", "--data", str(binary))
    with pytest.raises(CommandError, match="无法读取"):
        run("train", "--data", str(tmp_path / "nowhere.csv"))
    assert not TriageModel.objects.exists()


def test_a_worse_model_is_not_put_into_service_and_rollback(org, tree, tmp_path, toy_csv):
    run("train", "--data", str(toy_csv))
    first = in_service(org)
    # Labels shuffled at random: a model learnt from them is worse on the held-back split.
    noisy = [(lab, text) for (lab, _), (_, text) in zip(rows(12, seed=1), rows(12, seed=5), strict=True)]
    out, _ = run("train", "--data", str(write_csv(tmp_path / "noisy.csv", noisy)))
    assert json.loads(out)["status"] == "not put into service"
    rejected = TriageModel.objects.get(organization=org, version=2)
    assert rejected.status == ModelStatus.REJECTED and "不如在用模型" in rejected.note
    assert in_service(org).pk == first.pk

    run("train", "--data", str(write_csv(tmp_path / "more.csv", rows(14, seed=2))))
    third = in_service(org)
    assert third.version == 3
    out, _ = run("rollback")
    assert "v1 back in service" in out
    assert in_service(org).pk == first.pk
    assert TriageModel.objects.get(pk=third.pk).status == ModelStatus.RETIRED
    out, _ = run("rollback", "--to", "3")
    assert in_service(org).pk == third.pk
    with pytest.raises(CommandError, match="没有可以回退到的模型版本 v2"):
        run("rollback", "--to", "2")
    status, _ = run("status")
    assert "triage for hotline: ok" in status and "v2\trejected" in status


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage"])
def test_corrupt_or_missing_model_switches_triage_off(org, tree, toy_csv, damage):
    run("train", "--data", str(toy_csv))
    model = in_service(org)
    path = store.path_of(model)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "delete":
        path.unlink()
    else:
        joblib.dump({"not": "a bundle"}, path)
        TriageModel.objects.filter(pk=model.pk).update(sha256=store._sha256(path))
    store.forget()
    status, notice, _row = availability(org.pk)
    assert status == "off" and "v1" in notice and "登记不受影响" in notice
    result = suggest("", "油烟噪音污染", organization=org)
    assert result.status == "off" and result.categories == [] and result.notice == notice
    # Training a new model replaces the broken one.
    out, _ = run("train", "--data", str(toy_csv))
    assert json.loads(out)["status"] == "in service" and availability(org.pk)[0] == "ok"


def test_retraining_from_closed_cases_runs_as_a_task(org, tree, clerk, register, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from huiyin.cases.models import Case  # noqa: PLC0415  (the test's own query)

    # Too few closed cases: the task records why and changes nothing else.
    retrain_task.enqueue(organization_id=org.pk)
    refused = TriageModel.objects.get(organization=org)
    assert refused.status == ModelStatus.REFUSED and "至少需要" in refused.note
    assert availability(org.pk)[0] == "untrained"

    sub = tree["城乡建设/物业管理"]
    for label, text in rows(6, seed=4, labels=["环境保护", "交通运输", "商贸旅游"]):
        register(category_id=tree[label].pk, text=text)
    for i in range(3):  # three cases of a subcategory: too few on its own, learnt as its parent
        register(category_id=sub.pk, text=f"小区物业电梯漏水{i}，装修房屋")
    Case.objects.filter(organization=org).update(state=CaseState.CLOSED)
    retrain_task.enqueue(organization_id=org.pk)
    model = in_service(org)
    assert model.summary["source"] == "cases" and model.summary["rows"] == 18
    assert set(model.summary["labels"]) == {"环境保护", "交通运输", "商贸旅游"}
    assert model.summary["skipped"] == 3  # 城乡建设 has only those three: left out
