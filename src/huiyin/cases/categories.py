"""The category catalogue as preset rules see it: what a category answers to (its name,
full name, tags, and its ancestors' names and tags) and whether every category-keyed rule
of a preset finds a category of the organisation.

A preset rule ``when: {category: safety_facility}`` matches a case whose category (or an
ancestor) is named or tagged ``safety_facility``. Tags are the administrator's
(人员与部门 → 分类与标签), so an office with its own category names still gets the rule; a
rule that matches no category is refused when the preset is applied
(``preset_problems``, installed through the subscriber table) and a tag edit that would
leave one unmatched is refused too (``administration.services.category_set_tags``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from huiyin.core.errors import ValidationFailed
from huiyin.policy.checks import Problem

from .models import Category

if TYPE_CHECKING:
    from huiyin.policy.presets import DeadlineRule, Preset

TAG_MAX = 40
TAGS_MAX = 10
_SPLIT = re.compile(r"[\s,，、;；]+")


def parse_tags(text: str, field: str = "tags") -> str:
    """The tags typed into the form (spaces, commas or 、 between them) as stored: one space
    between, each once; refused naming the field when too long or too many."""
    tags = list(dict.fromkeys(t for t in _SPLIT.split(text or "") if t))
    too_long = next((t for t in tags if len(t) > TAG_MAX), None)
    if too_long:
        raise ValidationFailed(
            {field: [_("标签“%(tag)s…”过长：每个标签最多 %(max)d 个字符。") % {"tag": too_long[:10], "max": TAG_MAX}]}
        )
    if len(tags) > TAGS_MAX:
        raise ValidationFailed({field: [_("标签最多 %(max)d 个。") % {"max": TAGS_MAX}]})
    return " ".join(tags)


def _ancestor_ids(category: Category) -> list[int]:
    return [int(x) for x in (category.path or "").strip("/").split("/") if x.isdigit() and int(x) != category.pk]


# The ancestors a category is read with where its terms are wanted (the registration's
# validation): the parent chain, joined, up to this depth; a deeper one reads the rest.
ANCESTORS_JOINED = "parent__parent__parent"


def _joined_ancestors(category: Category) -> list[Category] | None:
    """The ancestors read with the category (``ANCESTORS_JOINED``), in the order the query of
    ``category_terms`` gives them; None where the chain was not read to its root, or does
    not agree with the path."""
    found = []
    node: Category | None = category
    while node is not None and node.parent_id is not None:
        if not Category.parent.is_cached(node):
            return None
        node = node.parent
        if node is not None:
            found.append(node)
    if sorted(a.pk for a in found) != sorted(_ancestor_ids(category)):
        return None
    return sorted(found, key=lambda a: a.full_name)


def terms_of(category: Category, ancestors: Iterable[Category] = ()) -> tuple[str, ...]:
    """What the category answers to in a rule's ``when.category``: its name, full name and
    tags, and its ancestors' names and tags (a rule for a branch covers its leaves)."""
    terms: list[str] = [category.name, category.full_name, *category.tag_list]
    for node in ancestors:
        terms += [node.name, *node.tag_list]
    return tuple(dict.fromkeys(t for t in terms if t))


def category_terms(category: Category | None) -> tuple[str, ...]:
    """Kept on the category object for its request (a registration asks for the promised
    time, the clocks and the urgency; keyed on what the object says, so an edit asks again)."""
    if category is None:
        return ()
    key = (category.path, category.name, category.full_name, category.tags)
    held = category.__dict__.get("_terms")
    if held is not None and held[0] == key:
        return held[1]
    ancestors = _joined_ancestors(category)
    if ancestors is None:
        ancestors = list(Category.objects.filter(pk__in=_ancestor_ids(category)))
    terms = terms_of(category, ancestors)
    category.__dict__["_terms"] = (key, terms)
    return terms


def catalogue_terms(organization_id: int, tags: Mapping[int, str] | None = None) -> dict[int, tuple[str, ...]]:
    """Every category of the organisation with what it answers to; ``tags`` overrides some
    categories' tags (a proposed edit, checked before it is saved)."""
    nodes = {c.pk: c for c in Category.objects.filter(organization_id=organization_id)}
    for pk, text in (tags or {}).items():
        if pk in nodes:
            nodes[pk].tags = text
    return {pk: terms_of(c, [nodes[a] for a in _ancestor_ids(c) if a in nodes]) for pk, c in nodes.items()}


def category_rules(preset: Preset) -> list[tuple[str, DeadlineRule]]:
    """(key path, rule) of every rule of the preset that is keyed on a category."""
    rules = [(f"deadlines[{i}]", rule) for i, rule in enumerate(preset.deadlines)]
    if preset.acceptance_grounds.return_within is not None:
        rules.append(("acceptance_grounds.return_within", preset.acceptance_grounds.return_within))
    return [(path, rule) for path, rule in rules if rule.when.category]


def rule_name(rule: DeadlineRule) -> str:
    return rule.label or rule.stage


def unmatched(preset: Preset, catalogue: Mapping[int, tuple[str, ...]]) -> list[Problem]:
    """Each category value of a preset rule that no category of ``catalogue`` answers to."""
    known = {term for terms in catalogue.values() for term in terms}
    found = []
    for path, rule in category_rules(preset):
        for value in rule.when.category:
            if value not in known:
                found.append(
                    Problem(
                        path=f"{path}.when.category",
                        message=_(
                            "规则“%(rule)s”按分类“%(value)s”适用，但本单位没有名称或标签为“%(value)s”的分类："
                            "请在“人员与部门 → 分类与标签”中给相应分类加上标签“%(value)s”，或修改该规则。"
                        )
                        % {"rule": rule_name(rule), "value": value},
                    )
                )
    return found


def preset_problems(organization_id: int, preset: Preset) -> list[Problem]:
    """The subscriber table's preset check: every category-keyed rule finds a category.
    An organisation with no catalogue yet (categories are loaded after the first policy)
    is not checked: its catalogue is checked against the running policy when it is edited."""
    catalogue = catalogue_terms(organization_id)
    if not catalogue:
        return []
    return unmatched(preset, catalogue)
