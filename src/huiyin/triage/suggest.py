"""The one triage interface: ``suggest(title, text, location, channel, organization=...)``.

Used by the intake forms (through ``views.suggest_view``), and open to the portal, the API
and batch jobs. It returns ranked category and department suggestions with calibrated
confidence, the words that drove each category, and the urgency the preset's safety
keywords give the text (the same rule that raises a registered case's urgency:
``deadlines.services.clocks.text_urgency``), with its reason.

Only categories of the organisation's own tree that still exist are suggested, and only
its departments that handle cases. Without a model in service, or when its file is missing
or damaged, the status says so (``untrained`` / ``off``) and the urgency still comes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from huiyin.cases.models import Category, Urgency
from huiyin.core.chinese import prepare, runs
from huiyin.deadlines.services.clocks import text_urgency
from huiyin.orgs.models import Department, Organization
from huiyin.policy.services.versions import current_policy

from .models import ModelStatus, TriageModel
from .store import Bundle, ModelUnavailable, load

TOP_CATEGORIES = 3
TOP_DEPARTMENTS = 2
WORDS = 5
# What the model reads of a text: a complaint of 20,000 characters is judged by its start.
MODEL_CHARS = 20_000


@dataclass(frozen=True)
class CategorySuggestion:
    id: int
    name: str
    full_name: str
    confidence: float
    words: list[str]


@dataclass(frozen=True)
class DepartmentSuggestion:
    id: int
    name: str
    confidence: float


@dataclass(frozen=True)
class UrgencyFlag:
    level: str  # "normal" | "urgent" | "major"
    keyword: str
    reason: str


@dataclass(frozen=True)
class Suggestions:
    status: str  # "ok" | "empty" (nothing to read yet) | "untrained" | "off" (model file unusable)
    notice: str
    urgency: UrgencyFlag
    model_version: int | None = None
    categories: list[CategorySuggestion] = field(default_factory=list)
    departments: list[DepartmentSuggestion] = field(default_factory=list)
    ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_in_service(organization_id: int) -> TriageModel | None:
    return TriageModel.objects.filter(organization_id=organization_id, status=ModelStatus.IN_SERVICE).first()


def availability(organization_id: int) -> tuple[str, str, TriageModel | None]:
    """("ok" | "untrained" | "off", the notice to show, the model row)."""
    row = model_in_service(organization_id)
    if row is None:
        return "untrained", _("尚未训练分类模型：暂无智能分类建议，登记不受影响。"), None
    try:
        load(row)
    except ModelUnavailable as exc:
        return "off", str(exc.message) + _("登记不受影响。"), row
    return "ok", "", row


def urgency_of(title: str, text: str, organization_id: int) -> UrgencyFlag:
    version = current_policy(organization_id)
    if version is None:
        return UrgencyFlag("normal", "", "")
    level, keyword = text_urgency(title, text, version.preset())
    if not keyword:
        return UrgencyFlag("normal", "", "")
    reason = _("含有关键词“%(keyword)s”，按预设规则为“%(level)s”。") % {
        "keyword": keyword,
        "level": Urgency(level).label,
    }
    return UrgencyFlag(level, keyword, reason)


def _departments(
    bundle: Bundle, ranked: Sequence[tuple[int, float]], organization_id: int
) -> list[DepartmentSuggestion]:
    """P(department | text) = Σ P(category | text) · P(department | category), the second
    from the cases the organisation's departments led (stored with the model)."""
    scores: dict[int, float] = {}
    for category_id, p in ranked:
        for department_id, share in bundle.departments.get(category_id, []):
            scores[int(department_id)] = scores.get(int(department_id), 0.0) + p * share
    if not scores:
        return []
    live = {
        d.pk: d.name
        for d in Department.objects.filter(organization_id=organization_id, handles_cases=True, pk__in=list(scores))
    }
    best = sorted(((p, d) for d, p in scores.items() if d in live), reverse=True)[:TOP_DEPARTMENTS]
    return [DepartmentSuggestion(d, live[d], round(p, 3)) for p, d in best]


def suggest(
    title: str,
    text: str,
    location: str | None = None,
    channel: str | None = None,
    *,
    organization: Organization | int,
    names: Sequence[str] = (),
) -> Suggestions:
    """Suggestions for a matter being registered. ``names``: people the text may name (the
    caller typed in the form), masked before the model reads it. ``channel`` is part of the
    interface for models that learn from it; the current one reads the text and location."""
    started = time.perf_counter()
    org_id = organization if isinstance(organization, int) else organization.pk
    title, text = title or "", text or ""
    urgency = urgency_of(title, text, org_id)
    status, notice, row = availability(org_id)
    if status != "ok" or row is None:
        return Suggestions(status, notice, urgency, model_version=row.version if row else None)
    prepared = prepare(title, "\n".join(p for p in (text, location or "") if p), names)[:MODEL_CHARS]
    if sum(len(run) for run in runs(prepared)) < 2:  # punctuation only, or one character
        return Suggestions("empty", _("输入诉求内容后显示分类建议。"), urgency, model_version=row.version)
    bundle = load(row)
    classifier = bundle.classifier
    probabilities, terms = classifier.analyse(prepared, top=TOP_CATEGORIES + 2, k=WORDS)
    order = probabilities.argsort()[::-1]
    live = {
        c.pk: c for c in Category.objects.filter(organization_id=org_id, pk__in=[int(x) for x in classifier.classes_])
    }
    ranked = [(int(classifier.classes_[i]), float(probabilities[i])) for i in order]
    categories = []
    for index in order:
        category = live.get(int(classifier.classes_[index]))
        if category is None:  # deleted or moved out since training: never suggested
            continue
        categories.append(
            CategorySuggestion(
                id=category.pk,
                name=category.name,
                full_name=str(category),
                confidence=round(float(probabilities[index]), 3),
                words=terms[int(index)] if int(index) in terms else classifier.explain(prepared, int(index), WORDS),
            )
        )
        if len(categories) == TOP_CATEGORIES:
            break
    departments = _departments(bundle, [r for r in ranked if r[0] in live], org_id)
    ms = (time.perf_counter() - started) * 1000
    return Suggestions("ok", "", urgency, row.version, categories, departments, round(ms, 2))
