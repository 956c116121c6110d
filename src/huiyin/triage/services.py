"""Triage writes: training a model (from files or the organisation's own closed cases),
putting it into service only if it is not worse than the one in service, rolling back, and
recording what was suggested at intake against what the clerk chose.

Training never changes anything until the new model is fitted, measured and written: a bad
file (missing columns, unknown labels, one class only, too few examples) is refused with a
clear error before any row or file is written, and the model in service stays."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from huiyin.cases.models import Case, Category
from huiyin.cases.workflow import CaseState
from huiyin.core.chinese import prepare
from huiyin.core.errors import ApplicationError
from huiyin.orgs.models import Organization

from . import data as datafiles
from . import store
from .classifier import TextClassifier
from .errors import TriageError
from .models import MODEL_STATUSES, ModelStatus, Suggestion, TriageModel
from .similarity import Frequencies

log = logging.getLogger(__name__)

MIN_PER_LABEL = 5  # examples a label needs: a held-back share and calibration folds of its own
HELD_BACK_FOLDS = 5  # one fold of five (20 %) is held back to compare models
CLOSED_STATES = (CaseState.CLOSED, CaseState.ARCHIVED)
Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """No progress output."""


@dataclass
class TrainingSet:
    texts: list[str]  # prepared: normalised and masked
    labels: list[int]  # category ids
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingResult:
    model: TriageModel
    promoted: bool
    metrics: dict[str, Any]


# --- the category tree ---------------------------------------------------------------------


class Tree:
    """The organisation's categories: names to ids, and each category's ancestors."""

    def __init__(self, organization_id: int):
        rows = list(
            Category.objects.filter(organization_id=organization_id).values("id", "parent_id", "name", "full_name")
        )
        self.parent = {r["id"]: r["parent_id"] for r in rows}
        self.full_name = {r["id"]: r["full_name"] or r["name"] for r in rows}
        self.by_full = {r["full_name"] or r["name"]: r["id"] for r in rows}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for r in rows:
            self.by_name[r["name"]].append(r["id"])

    def find(self, label: str) -> int | None:
        """A label as a category: its full name ("城乡建设/物业管理"), else a name only one
        category has."""
        label = label.strip()
        if label in self.by_full:
            return self.by_full[label]
        matches = self.by_name.get(label, [])
        return matches[0] if len(matches) == 1 else None

    def chain(self, category_id: int | None) -> list[int]:
        """The category and its ancestors, nearest first."""
        out = []
        while category_id is not None and category_id in self.parent and category_id not in out:
            out.append(category_id)
            category_id = self.parent[category_id]
        return out

    def class_of(self, category_id: int | None, classes: Iterable[int]) -> int | None:
        """The nearest of ``classes`` at or above the category."""
        wanted = set(classes)
        return next((c for c in self.chain(category_id) if c in wanted), None)


def map_labels(labels: Iterable[str], tree: Tree) -> dict[str, int]:
    mapping, unknown = {}, []
    for label in sorted(set(labels)):
        category_id = tree.find(label)
        if category_id is None:
            unknown.append(label)
        else:
            mapping[label] = category_id
    if unknown:
        shown = "、".join(unknown[:5]) + ("……" if len(unknown) > 5 else "")
        raise ApplicationError(
            _("%(n)s 个标签不是本单位的分类：%(labels)s。标签须写分类名称或完整路径（如“城乡建设/物业管理”）。")
            % {"n": len(unknown), "labels": shown},
            field="label",
            code=TriageError.UNKNOWN_LABELS,
        )
    return mapping


def _check_classes(labels: Sequence[int], tree: Tree) -> None:
    counts = Counter(labels)
    if len(counts) < 2:
        raise ApplicationError(
            _("训练数据只有一个分类（%(label)s）：至少需要两个分类。")
            % {"label": tree.full_name.get(next(iter(counts), 0), "—")},
            field="label",
            code=TriageError.ONE_CLASS,
        )
    few = sorted((tree.full_name.get(c, str(c)), n) for c, n in counts.items() if n < MIN_PER_LABEL)
    if few:
        shown = "、".join(f"{name}（{n} 条）" for name, n in few[:5])
        raise ApplicationError(
            _("每个分类至少需要 %(min)s 条样本，这些不够：%(labels)s。") % {"min": MIN_PER_LABEL, "labels": shown},
            field="label",
            code=TriageError.TOO_FEW_EXAMPLES,
        )


# --- where training data comes from --------------------------------------------------------


def _names_of(case: Case) -> list[str]:
    people = [case.party] if case.party_id else []
    people += list(case.co_parties.all())
    return [p.name for p in people if p is not None and p.name]


def _case_text(case: Case) -> str:
    return prepare(case.title, "\n".join(p for p in (case.text, case.location) if p), _names_of(case))


def _corrections(organization_id: int, tree: Tree, classes: Iterable[int]) -> tuple[list[str], list[int]]:
    """Cases whose clerk chose another category than triage suggested: their final category."""
    texts, labels = [], []
    rows = Suggestion.objects.filter(
        organization_id=organization_id, case__isnull=False, chosen_category__isnull=False
    ).select_related("case", "case__party")
    for row in rows.iterator(chunk_size=500):
        if not row.corrected or row.case is None:
            continue
        label = tree.class_of(row.chosen_category_id, classes)
        if label is not None:
            texts.append(_case_text(row.case))
            labels.append(label)
    return texts, labels


def from_files(organization: Organization, paths: Sequence[str | Path], progress: Progress = _quiet) -> TrainingSet:
    progress(f"reading {len(paths)} file(s)")
    dataset = datafiles.read(paths)
    tree = Tree(organization.pk)
    mapping = map_labels(dataset.labels(), tree)
    progress(f"{len(dataset.examples)} rows ({dataset.skipped} skipped: no label or no text); masking and normalising")
    texts = [prepare(e.title, e.text) for e in dataset.examples]
    labels = [mapping[e.label] for e in dataset.examples]
    _check_classes(labels, tree)
    more_texts, more_labels = _corrections(organization.pk, tree, set(labels))
    if more_texts:
        progress(f"{len(more_texts)} staff corrections from intake added")
    summary = {
        "source": "files",
        "files": dataset.files,
        "rows": len(texts),
        "skipped": dataset.skipped,
        "corrections": len(more_texts),
        "labels": {tree.full_name[c]: n for c, n in sorted(Counter(labels + more_labels).items())},
    }
    return TrainingSet(texts + more_texts, labels + more_labels, summary)


def from_cases(organization: Organization, progress: Progress = _quiet) -> TrainingSet:
    """The organisation's closed cases with a category. A category with fewer than
    ``MIN_PER_LABEL`` cases is learnt as its parent (up to the top level); what is still too
    rare is left out."""
    tree = Tree(organization.pk)
    cases = (
        Case.objects.filter(organization=organization, state__in=CLOSED_STATES, category__isnull=False)
        .select_related("party")
        .prefetch_related("co_parties")
        .order_by("pk")
    )
    total = cases.count()
    progress(f"reading {total} closed cases with a category; masking and normalising")
    texts, categories = [], []
    for i, case in enumerate(cases.iterator(chunk_size=1000), start=1):
        texts.append(_case_text(case))
        categories.append(case.category_id)
        if i % 5000 == 0:
            progress(f"  {i}/{total}")
    label_of = {c: c for c in set(categories)}
    while True:  # lift rare classes to their parent until every class is big enough
        counts = Counter(label_of[c] for c in categories if label_of[c] is not None)
        changed = False
        for category, label in label_of.items():
            if label is not None and counts[label] < MIN_PER_LABEL:
                label_of[category] = tree.parent.get(label)
                changed = True
        if not changed:
            break
    keep = [i for i, c in enumerate(categories) if label_of[c] is not None]
    labels = [label_of[categories[i]] for i in keep]
    texts = [texts[i] for i in keep]
    if not texts:
        raise ApplicationError(
            _("已办结且有分类的案件不足：每个分类至少需要 %(min)s 件。") % {"min": MIN_PER_LABEL},
            code=TriageError.TOO_FEW_EXAMPLES,
        )
    _check_classes(labels, tree)  # type: ignore[arg-type]  # None filtered out above
    corrected = Suggestion.objects.filter(organization=organization, case__state__in=CLOSED_STATES).exclude(
        chosen_category=None
    )
    summary = {
        "source": "cases",
        "rows": len(texts),
        "skipped": total - len(texts),
        "corrections": sum(1 for s in corrected if s.corrected),
        "labels": {tree.full_name[c]: n for c, n in sorted(Counter(labels).items())},  # type: ignore[index]
    }
    return TrainingSet(texts, labels, summary)  # type: ignore[arg-type]


def department_shares(organization_id: int, classes: Iterable[int], tree: Tree) -> dict[int, list[list[float]]]:
    """For each class, the departments that led the organisation's cases of it, as shares."""
    counts: dict[int, Counter[int]] = defaultdict(Counter)
    rows = (
        Case.objects.filter(organization_id=organization_id, category__isnull=False, lead_department__isnull=False)
        .values("category_id", "lead_department_id")
        .annotate(n=Count("id"))
    )
    classes = list(classes)
    for row in rows:
        label = tree.class_of(row["category_id"], classes)
        if label is not None:
            counts[label][row["lead_department_id"]] += row["n"]
    out = {}
    for label, counter in counts.items():
        total = sum(counter.values())
        out[label] = [[d, n / total] for d, n in counter.most_common(5)]
    return out


# --- measuring -----------------------------------------------------------------------------


def groups_of(texts: Sequence[str]) -> list[str]:
    """Exact duplicates (after normalising and masking) share a group: never split."""
    return [hashlib.sha1(t.encode()).hexdigest() for t in texts]


def held_back_split(labels: Sequence[int], texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    splitter = StratifiedGroupKFold(n_splits=HELD_BACK_FOLDS, shuffle=True, random_state=0)
    train, test = next(splitter.split(np.zeros(len(labels)), np.asarray(labels), groups_of(texts)))
    return train, test


def measure(
    classifier: TextClassifier,
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    raw: Sequence[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Macro-F1 and accuracy of the classifier on prepared ``texts``; ``ms_per_case``: one case
    at a time through the whole path — from ``raw`` (title, text) when given: normalising,
    masking, segmenting, vectorising, predicting."""
    started = time.perf_counter()
    predicted = []
    for i, text in enumerate(texts):
        if raw is not None:
            text = prepare(*raw[i])[:20_000]
        probabilities = classifier.predict_proba([text])[0]
        predicted.append(classifier.classes_[int(probabilities.argmax())])
    elapsed = time.perf_counter() - started
    y = [int(v) for v in labels]
    p = [int(v) for v in predicted]
    return {
        "macro_f1": round(float(f1_score(y, p, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y, p)), 4),
        "n": len(y),
        "ms_per_case": round(elapsed * 1000 / max(1, len(y)), 3),
    }


def _rollup(labels: Sequence[int], classes: Iterable[int], tree: Tree) -> list[int]:
    """Each true category as the class a model can name (its nearest ancestor among the
    model's classes; itself when the model does not know it)."""
    classes = list(classes)
    return [tree.class_of(c, classes) or c for c in labels]


# --- training, service, rollback -----------------------------------------------------------


def _next_version(organization_id: int) -> int:
    return (TriageModel.objects.filter(organization_id=organization_id).aggregate(v=Max("version"))["v"] or 0) + 1


def refused(organization: Organization, error: ApplicationError, summary: dict | None = None) -> TriageModel:
    """A training that could not run (a task's bad data), kept so the page says why."""
    return TriageModel.objects.create(
        organization=organization,
        version=_next_version(organization.pk),
        status=ModelStatus.REFUSED,
        summary=summary or {},
        note=str(error.message),
    )


def train(
    organization: Organization,
    paths: Sequence[str | Path] = (),
    *,
    progress: Progress = _quiet,
) -> TrainingResult:
    """Train a model from the files (else the organisation's closed cases), compare it with
    the model in service on a held-back fifth of the data, and put it into service only if
    it is not worse. Bad data raises before anything is written."""
    started = time.perf_counter()
    dataset = from_files(organization, paths, progress) if paths else from_cases(organization, progress)
    tree = Tree(organization.pk)
    train_index, test_index = held_back_split(dataset.labels, dataset.texts)
    texts, labels = dataset.texts, dataset.labels
    progress(f"held back {len(test_index)} of {len(texts)} examples to compare models")
    candidate = TextClassifier()
    try:
        candidate.fit([texts[i] for i in train_index], [labels[i] for i in train_index], progress)
    except ValueError as exc:
        raise ApplicationError(
            _("训练数据无法学习：%(reason)s") % {"reason": exc}, code=TriageError.NOTHING_TO_LEARN
        ) from exc
    held_texts = [texts[i] for i in test_index]
    held_labels = [labels[i] for i in test_index]
    metrics = measure(candidate, held_texts, held_labels)
    progress(f"new model on the held-back split: macro-F1 {metrics['macro_f1']}, accuracy {metrics['accuracy']}")
    current = TriageModel.objects.filter(organization=organization, status=ModelStatus.IN_SERVICE).first()
    if current is not None:
        try:
            bundle = store.load(current)
        except store.ModelUnavailable:
            metrics["current_macro_f1"] = None
            progress(f"model in service v{current.version}: its file is unusable; replacing it")
        else:
            truth = _rollup(held_labels, bundle.classifier.classes_, tree)
            before = measure(bundle.classifier, held_texts, truth)
            metrics["current_macro_f1"] = before["macro_f1"]
            progress(f"model in service v{current.version} on the same split: macro-F1 {before['macro_f1']}")
    summary = {**dataset.summary, "held_back": len(test_index)}
    worse = metrics.get("current_macro_f1") is not None and metrics["macro_f1"] < metrics["current_macro_f1"]
    if worse:
        row = TriageModel.objects.create(
            organization=organization,
            version=_next_version(organization.pk),
            status=ModelStatus.REJECTED,
            metrics=metrics,
            summary=summary,
            note=_("在保留数据上不如在用模型 v%(version)s（宏平均 F1 %(new)s < %(old)s），未投入使用。")
            % {
                "version": current.version if current else "",
                "new": metrics["macro_f1"],
                "old": metrics["current_macro_f1"],
            },
        )
        progress(f"not put into service: worse than v{current.version if current else ''}; recorded as v{row.version}")
        return TrainingResult(row, False, metrics)
    progress("fitting the model on all the data")
    final = TextClassifier().fit(texts, labels, progress)
    classes = [int(c) for c in final.classes_]
    bundle = store.Bundle(
        classifier=final,
        label_names={c: tree.full_name.get(c, str(c)) for c in classes},
        departments=department_shares(organization.pk, classes, tree),
        frequencies=Frequencies.of(texts),
    )
    summary["seconds"] = round(time.perf_counter() - started, 1)
    with transaction.atomic():
        list(TriageModel.objects.select_for_update().filter(organization=organization))  # one trainer at a time
        version = _next_version(organization.pk)
        name, sha = store.write(bundle, organization.pk, version)
        if current is not None:
            current.refresh_from_db()
            if current.status == ModelStatus.IN_SERVICE:
                MODEL_STATUSES.move(current, ModelStatus.RETIRED)
                current.save(update_fields=["status"])
        row = TriageModel.objects.create(
            organization=organization,
            version=version,
            status=ModelStatus.IN_SERVICE,
            file_name=name,
            sha256=sha,
            metrics=metrics,
            summary=summary,
            activated_at=timezone.now(),
        )
    progress(f"model v{row.version} in service ({name})")
    return TrainingResult(row, True, metrics)


def rollback(organization: Organization, to_version: int | None = None) -> TriageModel:
    """Put back the model that was in service before (or ``to_version``): its file must load."""
    with transaction.atomic():
        rows = list(TriageModel.objects.select_for_update().filter(organization=organization))
        current = next((r for r in rows if r.status == ModelStatus.IN_SERVICE), None)
        candidates = [
            r for r in rows if r.status == ModelStatus.RETIRED and (to_version is None or r.version == to_version)
        ]
        candidates.sort(key=lambda r: (r.activated_at or r.created_at, r.version), reverse=True)
        target = None
        for row in candidates:
            try:
                store.load(row)
            except store.ModelUnavailable:
                continue
            target = row
            break
        if target is None:
            raise ApplicationError(
                _("没有可以回退到的模型版本%(which)s。")
                % {"which": f" v{to_version}" if to_version is not None else ""},
                field="version",
                code=TriageError.NOTHING_TO_ROLL_BACK,
            )
        if current is not None:
            MODEL_STATUSES.move(current, ModelStatus.RETIRED)
            current.save(update_fields=["status"])
        MODEL_STATUSES.move(target, ModelStatus.IN_SERVICE)
        target.activated_at = timezone.now()
        target.save(update_fields=["status", "activated_at"])
    return target


def evaluate(organization: Organization, paths: Sequence[str | Path]) -> dict[str, Any]:
    """The model in service on the files: macro-F1, accuracy, n, ms per case (the full path
    from the raw text)."""
    row = TriageModel.objects.filter(organization=organization, status=ModelStatus.IN_SERVICE).first()
    if row is None:
        raise ApplicationError(_("尚未训练分类模型。"), code=TriageError.NO_MODEL)
    bundle = store.load(row)
    dataset = datafiles.read(paths)
    tree = Tree(organization.pk)
    mapping = map_labels(dataset.labels(), tree)
    truth = _rollup([mapping[e.label] for e in dataset.examples], bundle.classifier.classes_, tree)
    raw = [(e.title, e.text) for e in dataset.examples]
    result = measure(bundle.classifier, [""] * len(raw), truth, raw=raw)
    return {**result, "model_version": row.version, "skipped": dataset.skipped}
