"""Reads for surveys and activities: campaign statistics (回收份数、总满意率、分项满意率、
共性意见), rectification items, and the activity plan against the preset's frequency.

Definitions (also shown on the report):
- response rate = questionnaires returned / questionnaires handed out (``audience_size``);
- an area's satisfaction rate = (满意 + 基本满意) / answers to that area (blanks left out);
- the overall satisfaction rate pools every area answer of every questionnaire;
- common opinions (共性意见) = opinions, clauses or phrases of 3–10 characters that recur
  in at least two questionnaires (the longest kept when a shorter one recurs only
  inside it), most questionnaires first, each with distinct quotes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from huiyin.core.periods import period_of
from huiyin.core.rates import Rate
from huiyin.followup.models import SATISFIED
from huiyin.orgs.models import Staff

from .models import Activity, Answer, Campaign, ItemStatus, RectificationItem, SurveyResponse

_CLAUSES = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")
PHRASE_MIN, PHRASE_MAX, COMMON_TOP = 3, 10, 10


@dataclass
class AreaStats:
    code: str
    label: str
    counts: dict[str, int]
    answered: int
    rate: Rate


@dataclass
class CommonOpinion:
    phrase: str
    count: int  # questionnaires whose opinion contains it
    examples: list[str] = field(default_factory=list)


@dataclass
class CampaignStats:
    responses: int
    online: int
    paper: int
    handed_out: int
    response_rate: Rate
    overall: Rate
    areas: list[AreaStats]
    opinions: int
    common: list[CommonOpinion]


def campaigns_for(actor: Staff) -> QuerySet[Campaign]:
    return Campaign.objects.filter(organization_id=actor.org_id)


def campaign_stats(campaign: Campaign) -> CampaignStats:
    rows = list(SurveyResponse.objects.filter(campaign=campaign).values_list("channel", "answers", "opinion"))
    counts: dict[str, Counter] = {a["code"]: Counter() for a in campaign.areas}
    for _channel, answers, _opinion in rows:
        for code, value in answers.items():
            if code in counts:
                counts[code][value] += 1
    areas = []
    for area in campaign.areas:
        c = counts[area["code"]]
        answered = sum(c[v] for v in Answer.values)
        areas.append(
            AreaStats(
                code=area["code"],
                label=area["label"],
                answered=answered,
                counts={v: c[v] for v in Answer.values},
                rate=Rate(sum(c[v] for v in SATISFIED), answered),
            )
        )
    opinions = [o for _c, _a, o in rows if o.strip()]
    return CampaignStats(
        responses=len(rows),
        online=sum(1 for r in rows if r[0] == "online"),
        paper=sum(1 for r in rows if r[0] == "paper"),
        handed_out=campaign.audience_size or 0,
        response_rate=Rate(len(rows), campaign.audience_size or 0),
        overall=Rate(sum(a.rate.numerator for a in areas), sum(a.answered for a in areas)),
        areas=areas,
        opinions=len(opinions),
        common=common_opinions(opinions),
    )


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSES.split(text) if c]


def _candidates(text: str) -> dict[str, str]:
    """What an opinion could share with others, each with how to show it: the whole
    opinion (punctuation aside), its clauses, and its phrases of PHRASE_MIN–PHRASE_MAX
    characters."""
    found = {"".join(_clauses(text)): text.strip()}
    for clause in _clauses(text):
        found.setdefault(clause, clause)
        for size in range(PHRASE_MIN, min(PHRASE_MAX, len(clause)) + 1):
            for i in range(len(clause) - size + 1):
                found.setdefault(clause[i : i + size], clause[i : i + size])
    return found


def common_opinions(opinions: list[str], top: int = COMMON_TOP) -> list[CommonOpinion]:
    """What recurs in at least two opinions: the same opinion, the same clause or the
    same phrase (at least PHRASE_MIN characters, so that a bare word such as 希望 is no
    opinion). A candidate is dropped when a longer one containing it recurs in as many
    opinions: it would say nothing more."""
    holders: dict[str, set[int]] = defaultdict(set)
    shown: dict[str, str] = {}
    for i, text in enumerate(opinions):
        for key, display in _candidates(text).items():
            if len(key) >= PHRASE_MIN:
                holders[key].add(i)
                shown.setdefault(key, display)
    recurring = {p: h for p, h in holders.items() if len(h) >= 2}
    kept = [
        p for p, h in recurring.items() if not any(p != q and p in q and len(recurring[q]) >= len(h) for q in recurring)
    ]
    kept.sort(key=lambda p: (-len(recurring[p]), -len(p), p))
    out = []
    for p in kept[:top]:
        examples = list(dict.fromkeys(opinions[i].strip() for i in sorted(recurring[p])))[:2]
        out.append(CommonOpinion(phrase=shown[p], count=len(recurring[p]), examples=examples))
    return out


def items_for(campaign: Campaign) -> QuerySet[RectificationItem]:
    return campaign.items.select_related("department").order_by("status", "due_on", "id")


def overdue(item: RectificationItem, today: date | None = None) -> bool:
    return item.status == ItemStatus.OPEN and item.due_on < (today or timezone.localdate())


# --- activities ----------------------------------------------------------------------------------


def activity_plan_progress(organization_id: int, kinds, today: date | None = None) -> list[dict]:
    """Per engagement kind of the preset: how many are required in the current period,
    planned and held in it."""
    today = today or timezone.localdate()
    out = []
    for kind in kinds:
        start, end = period_of(kind.every, today)
        rows = Activity.objects.filter(
            organization_id=organization_id, kind=kind.code, planned_on__gte=start, planned_on__lt=end
        )
        held = sum(1 for a in rows if a.held_on is not None)
        out.append(
            {
                "kind": kind,
                "start": start,
                "end": end,
                "required": kind.times,
                "planned": len(rows),
                "held": held,
                "short": max(0, kind.times - held),
            }
        )
    return out


def activities_for(actor: Staff) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(organization_id=actor.org_id)
        .select_related("led_by")
        .prefetch_related("opinions")
        .order_by("-planned_on", "-id")
    )
