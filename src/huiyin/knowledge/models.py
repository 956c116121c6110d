"""The knowledge base (F07): policies, standard answers and practice notes staff look up while
answering a matter, edited by the administrators, searched by every staff member."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Category
from huiyin.orgs.models import Organization

USER = settings.AUTH_USER_MODEL
TITLE_MAX = 200
SOURCE_MAX = 500


class KnowledgeEntry(models.Model):
    """One entry: a title, the text, the categories it is about (none: any matter), the
    policy or rule it rests on (``source``), and whether staff see it (``active``).
    ``search_document`` is the character-bigram document of title, text and source
    (``core.search``), indexed by FTS5 on SQLite and a tsvector on PostgreSQL (migration 0002)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("标题"), max_length=TITLE_MAX)
    body = models.TextField(_("正文"))
    categories = models.ManyToManyField(Category, blank=True, related_name="+", verbose_name=_("适用分类"))
    source = models.CharField(_("依据"), max_length=SOURCE_MAX, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    search_document = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "knowledge_entry"
        verbose_name = _("知识条目")
        verbose_name_plural = _("知识条目")
        ordering = ["-updated_at", "id"]
        indexes = [models.Index(fields=["organization", "active", "updated_at"], name="knowledge_org_active")]

    def __str__(self) -> str:
        return self.title
