"""Writes to the knowledge base: an entry created or changed by an administrator, checked
field by field, never losing a concurrent change (``version``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from huiyin.cases.models import Category
from huiyin.core.errors import NotFound, PermissionDeniedError, ValidationFailed
from huiyin.core.search import document
from huiyin.core.validators import ANSWER_MAX, checked_text, happened_at
from huiyin.core.versions import bump, check_version
from huiyin.orgs.models import Staff

from .models import SOURCE_MAX, TITLE_MAX, KnowledgeEntry
from .permissions import may_edit_knowledge


def _checked(
    actor: Staff, *, title: str, body: str, source: str, category_ids: Iterable[int]
) -> tuple[str, str, str, list[Category]]:
    """The entry's fields cleaned, or every problem named at its field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for field, value, missing, limit, label in (
        ("title", title, _("请填写标题。"), TITLE_MAX, _("标题")),
        ("body", body, _("请填写正文：要告诉办理人员的内容。"), ANSWER_MAX, _("正文")),
        ("source", source, None, SOURCE_MAX, _("依据")),
    ):
        try:
            values[field] = checked_text(value, field, missing=missing, limit=limit, label=label)
        except ValidationFailed as refused:
            errors.update(refused.errors)
    wanted = set(category_ids)
    categories = list(Category.objects.filter(organization_id=actor.org_id, pk__in=wanted))
    if len(categories) != len(wanted):
        errors["categories"] = [_("所选分类不是本单位的分类，请重新选择。")]
    if errors:
        raise ValidationFailed(errors)
    return values["title"], values["body"], values["source"], categories


def _require_editor(actor: Staff) -> None:
    if not may_edit_knowledge(actor):
        raise PermissionDeniedError(_("只有系统管理员可以编辑知识库。"))


def entry_create(
    *,
    actor: Staff,
    title: str,
    body: str,
    source: str = "",
    category_ids: Iterable[int] = (),
    active: bool = True,
    at: datetime | None = None,
) -> KnowledgeEntry:
    """A new entry of the actor's organisation. ``at``: where history is recreated (the demo)."""
    _require_editor(actor)
    title, body, source, categories = _checked(actor, title=title, body=body, source=source, category_ids=category_ids)
    now = happened_at(at)
    with transaction.atomic():
        entry = KnowledgeEntry.objects.create(
            organization_id=actor.org_id,
            title=title,
            body=body,
            source=source,
            active=active,
            search_document=document(title, body, source),
            created_by=actor,
            created_at=now,
            updated_by=actor,
            updated_at=now,
        )
        entry.categories.set(categories)
    return entry


def entry_update(
    *,
    actor: Staff,
    entry_id: int,
    title: str,
    body: str,
    source: str = "",
    category_ids: Iterable[int] = (),
    active: bool = True,
    expected_version: int | None = None,
) -> KnowledgeEntry:
    """Change an entry. ``expected_version`` is the version the form was opened at: a change
    saved by someone else since then is refused (``StaleObject``), never overwritten."""
    _require_editor(actor)
    title, body, source, categories = _checked(actor, title=title, body=body, source=source, category_ids=category_ids)
    with transaction.atomic():
        entry = KnowledgeEntry.objects.select_for_update().filter(pk=entry_id, organization_id=actor.org_id).first()
        if entry is None:
            raise NotFound(_("找不到该知识条目。"))
        check_version(entry, expected_version, what=_("该知识条目"))
        entry.title, entry.body, entry.source, entry.active = title, body, source, active
        entry.search_document = document(title, body, source)
        entry.updated_by, entry.updated_at = actor, happened_at(None)
        bump(entry, ["title", "body", "source", "active", "search_document", "updated_by", "updated_at"])
        entry.categories.set(categories)
    return entry
