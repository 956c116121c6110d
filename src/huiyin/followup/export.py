"""The callback queue as a spreadsheet (Excel or CSV, written by ``core.exports``): the due
callbacks the desk lists, with its filters and in its order. The complainant's name and
number are masked as on the card; a full export (the personal-data right, at most
``cases.export.FULL_EXPORT_MAX`` callbacks) shows them in clear and logs each case as a
full view first — a list to call from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _

from huiyin.cases.export import FULL_EXPORT_MAX, party_values, too_many_for_full
from huiyin.cases.models import Channel
from huiyin.cases.permissions import may_reveal_pii
from huiyin.cases.selectors import cases_for
from huiyin.cases.services import party_export_log
from huiyin.core.errors import PermissionDeniedError
from huiyin.core.exports import Column, Listing, by_ids
from huiyin.core.forms import form_refusal
from huiyin.orgs.models import Staff

from . import selectors
from .forms import QueueFilterForm
from .models import Callback, CallbackReason
from .permissions import may_use_callback_desk

if TYPE_CHECKING:
    from django.http import QueryDict


def queue_listing(actor: Staff, query: QueryDict, full: bool) -> Listing:
    if not may_use_callback_desk(actor):
        raise PermissionDeniedError()
    form = QueueFilterForm(query or None, organization_id=actor.org_id)
    refusal = form_refusal(form)
    if refusal is not None:
        raise refusal
    rows = selectors.queue(actor, form.filters())
    logged: set[int] = set()
    before_rows = None
    if full:
        if not may_reveal_pii(actor):
            raise PermissionDeniedError(_("您没有查看完整个人信息的权限。"))
        case_ids = list(rows.values_list("case_id", flat=True)[: FULL_EXPORT_MAX + 1])
        if len(case_ids) > FULL_EXPORT_MAX:
            raise too_many_for_full()
        logged = set(cases_for(actor).filter(pk__in=case_ids).values_list("pk", flat=True))
        ids_logged = sorted(logged)

        def log_export(fmt: str) -> None:
            party_export_log(actor=actor, case_ids=ids_logged, export=fmt)

        before_rows = log_export
    reasons = {value: str(label) for value, label in CallbackReason.choices}
    channels = {value: str(label) for value, label in Channel.choices}

    def chunks():
        ids = list(rows.values_list("pk", flat=True))
        fetch = Callback.objects.select_related(
            "case", "case__party", "case__lead_department", "case__category", "case__handler"
        )
        yield from by_ids(ids, lambda chunk: fetch.filter(pk__in=chunk))

    last: dict[int, tuple[str, str, str, str]] = {}

    def party(callback: Callback) -> tuple[str, str, str, str]:
        if callback.pk not in last:  # two columns read one party: mask or decrypt it once
            last.clear()
            last[callback.pk] = party_values(callback.case.party, full=callback.case_id in logged)
        return last[callback.pk]

    return Listing(
        title=_("回访工作台"),
        stem="callbacks",
        columns=[
            Column(_("编号"), lambda c: c.case.number, 16),
            Column(_("标题"), lambda c: c.case.title, 40),
            Column(_("回访原因"), lambda c: reasons.get(c.reason, c.reason), 16),
            Column(_("回访期限"), lambda c: c.due_at, 17),
            Column(_("已拨打次数"), lambda c: c.attempts, 10, "0"),
            Column(_("分类"), lambda c: c.case.category.full_name if c.case.category else "", 24),
            Column(_("渠道"), lambda c: channels.get(c.case.channel, c.case.channel)),
            Column(_("主办部门"), lambda c: str(c.case.lead_department or "")),
            Column(_("承办人"), lambda c: str(c.case.handler or "")),
            Column(_("受理时间"), lambda c: c.case.received_at, 17),
            Column(_("反映人"), lambda c: party(c)[0]),
            Column(_("联系电话"), lambda c: party(c)[1], 16),
        ],
        chunks=chunks,
        count=lambda cap: rows.order_by()[: cap + 1].count(),
        full=full,
        before_rows=before_rows,
        page_url=reverse("followup:queue") + (f"?{query.urlencode()}" if query else ""),
    )
