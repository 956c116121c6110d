"""The supervision board as a spreadsheet (Excel or CSV, written by ``core.exports``): the
same cases, order and columns as the board, with its filters. The board shows no
complainant's data, so neither does its export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case
from huiyin.cases.workflow import CaseState
from huiyin.core.durations import time_left_text
from huiyin.core.errors import PermissionDeniedError
from huiyin.core.exports import Column, Listing, by_ids
from huiyin.core.forms import form_refusal
from huiyin.orgs.models import Staff

from . import selectors
from .forms import STATUS_CHOICES, BoardFilterForm
from .permissions import may_see_board

if TYPE_CHECKING:
    from django.http import QueryDict


def board_listing(actor: Staff, query: QueryDict, full: bool) -> Listing:
    if not may_see_board(actor):
        raise PermissionDeniedError()
    if full:
        raise PermissionDeniedError(_("督办看板不含个人信息，没有完整导出。"))
    form = BoardFilterForm(query or None, organization_id=actor.org_id)
    filters = selectors.BoardFilters()
    refusal = form_refusal(form)
    if refusal is not None:
        raise refusal
    if form.is_bound:
        d = form.cleaned_data
        filters = selectors.BoardFilters(
            department_id=d["department"].pk if d["department"] else None, status=d["status"]
        )
    now = timezone.now()
    qs = selectors.board(actor=actor, filters=filters, now=now)
    states = {value: str(label) for value, label in CaseState.choices}
    marks = {value: str(label) for value, label in STATUS_CHOICES if value}

    def chunks():
        ids = list(qs.values_list("pk", flat=True))
        fetch = Case.objects.filter(organization_id=actor.org_id).select_related("lead_department", "handler")
        for cases in by_ids(ids, lambda chunk: fetch.filter(pk__in=chunk)):
            yield selectors.board_rows(cases=cases, now=now)

    def notices(row: selectors.BoardRow) -> str:
        return "；".join(f"{n.number}（{n.get_state_display()}）" for n in row.notices)

    return Listing(
        title=_("督办看板"),
        stem="supervision",
        columns=[
            Column(_("编号"), lambda r: r.case.number, 16),
            Column(_("标题"), lambda r: r.case.title, 40),
            Column(_("督办状态"), lambda r: "、".join(marks.get(s, s) for s in r.statuses), 14),
            Column(_("状态"), lambda r: states.get(r.case.state, r.case.state)),
            Column(_("环节"), lambda r: r.clock.label if r.clock else "", 16),
            Column(_("主办部门"), lambda r: str(r.case.lead_department or "")),
            Column(_("承办人"), lambda r: str(r.case.handler or "")),
            Column(_("督办单"), notices, 30),
            Column(_("到期时间"), lambda r: r.due_at, 17),
            Column(_("时限"), lambda r: time_left_text(r.time_left) if r.time_left is not None else "", 18),
        ],
        chunks=chunks,
        count=lambda cap: qs.order_by()[: cap + 1].count(),
        page_url=reverse("supervision:board") + (f"?{query.urlencode()}" if query else ""),
    )
