"""The ledger and the desk as spreadsheets (Excel or CSV, written by ``core.exports``).

Both are lists of cases with the same columns as the ledger's export; the desk's rows
say which section of the desk they are in. The rows are read in chunks
(``selectors.ledger_chunks``: each chunk starts where the last one stopped), so memory
stays flat however long the list.

The personal columns follow the screen's masking (``core.privacy``) unless the export
is a full one: only with the personal-data right, at most FULL_EXPORT_MAX cases, each
logged as a full view (``services.party_export_log``) before the first row is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext as _

from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.core.exports import Column, Listing
from huiyin.core.forms import form_refusal
from huiyin.orgs.models import Staff

from . import selectors, services
from .forms import LedgerFilterForm
from .models import Case, Channel, Nature, Party, Urgency
from .permissions import may_reveal_pii
from .workflow import CaseState

if TYPE_CHECKING:
    from django.http import QueryDict

# A full export (personal data in clear) holds at most this many cases: each is logged as a
# full view, and a bigger extraction of personal data is narrowed by a filter first.
FULL_EXPORT_MAX = 5_000


def party_values(party: Party | None, *, full: bool) -> tuple[str, str, str, str]:
    """Name, phone, ID number, address: as the ledger shows them, or in full."""
    if party is None:
        return "", "", "", ""
    if party.erased_at is not None:
        return party.display_name, "", "", ""
    if full:
        return party.name or party.display_name, party.phone, party.id_number, party.address
    return party.display_name, party.masked_phone, party.masked_id_number, party.masked_address


def _labels(choices) -> dict[str, str]:
    """Value -> label, translated once per export (``get_FOO_display`` translates on
    every call: a third of the time of a long export)."""
    return {value: str(label) for value, label in choices}


def _the_case(row: Any) -> Case:
    return row


def case_columns(*, in_clear: Callable[[Case], bool], case_of: Callable[[Any], Case] = _the_case) -> list[Column]:
    """The ledger's columns, read from ``case_of(row)``; the complainant's in clear where
    ``in_clear(case)``, masked as on the screen elsewhere."""
    channel, nature = _labels(Channel.choices), _labels(Nature.choices)
    urgency, state = _labels(Urgency.choices), _labels(CaseState.choices)
    last: dict[int, tuple[str, str, str, str]] = {}

    def party(row: object) -> tuple[str, str, str, str]:
        case = case_of(row)
        key = id(case)
        if key not in last:  # four columns read one party: mask or decrypt it once
            last.clear()
            last[key] = party_values(case.party, full=in_clear(case))
        return last[key]

    def field(read: Callable[[Case], object]) -> Callable[[object], object]:
        return lambda row: read(case_of(row))

    return [
        Column(_("编号"), field(lambda c: c.number), 16),
        Column(_("标题"), field(lambda c: c.title), 40),
        Column(_("渠道"), field(lambda c: channel.get(c.channel, c.channel))),
        Column(_("性质"), field(lambda c: nature.get(c.nature, c.nature))),
        Column(_("分类"), field(lambda c: c.category.full_name if c.category else ""), 24),
        Column(_("紧急程度"), field(lambda c: urgency.get(c.urgency, c.urgency))),
        Column(_("主办部门"), field(lambda c: str(c.lead_department) if c.lead_department else "")),
        Column(_("承办人"), field(lambda c: str(c.handler) if c.handler else "")),
        Column(_("状态"), field(lambda c: state.get(c.state, c.state))),
        Column(_("受理时间"), field(lambda c: c.received_at), 17),
        Column(_("承诺办结时限"), field(lambda c: c.promised_due_at), 17),
        Column(_("办结时间"), field(lambda c: c.closed_at), 17),
        Column(_("反映人"), lambda row: party(row)[0]),
        Column(_("联系电话"), lambda row: party(row)[1], 16),
        Column(_("身份证号码"), lambda row: party(row)[2], 20),
        Column(_("地址"), lambda row: party(row)[3], 30),
    ]


def header() -> list[str]:
    """The ledger export's header row."""
    return [c.header for c in case_columns(in_clear=lambda case: False)]


def _full_allowed(actor: Staff) -> None:
    if not may_reveal_pii(actor):
        raise PermissionDeniedError(_("您没有查看完整个人信息的权限。"))


def too_many_for_full() -> ValidationFailed:
    """The refusal of a full export over FULL_EXPORT_MAX cases."""
    return ValidationFailed(
        {
            "__all__": [
                _("完整导出（含个人信息）最多 %(n)s 件，请先用筛选条件缩小范围。") % {"n": f"{FULL_EXPORT_MAX:,}"}
            ]
        }
    )


def _logger(actor: Staff, ids: Sequence[int]) -> Callable[[str], object]:
    return lambda fmt: services.party_export_log(actor=actor, case_ids=list(ids), export=fmt)


def ledger_filters(actor: Staff, query: QueryDict) -> tuple[LedgerFilterForm, selectors.LedgerFilters]:
    form = LedgerFilterForm(query or None, organization_id=actor.org_id)
    refusal = form_refusal(form)
    if refusal is not None:  # never the whole ledger instead of the filtered list
        raise refusal
    return form, form.filters()


def ledger_listing(actor: Staff, query: QueryDict, full: bool) -> Listing:
    """The filtered ledger, in the ledger's order. Masked: every row, read a chunk at a
    time. Full: the ids first (at most FULL_EXPORT_MAX), logged, then their rows."""
    _form, filters = ledger_filters(actor, query)
    page_url = reverse("cases:ledger") + (f"?{query.urlencode()}" if query else "")
    if not full:
        total: list[selectors.LedgerTotal] = []

        def count(cap: int) -> int:
            """The ledger's own total (exact up to its count cap, else the estimate); an
            inline limit set above that cap is counted up to the limit."""
            if not total:
                total.append(selectors.ledger_total(actor=actor, filters=filters))
            if total[0].exact:
                return total[0].count
            if cap > selectors.COUNT_CAP:
                return selectors.ledger_count_to(actor=actor, filters=filters, cap=cap)
            return max(total[0].count, cap + 1)

        return Listing(
            title=_("台账"),
            stem="ledger",
            columns=case_columns(in_clear=lambda case: False),
            chunks=lambda: selectors.ledger_chunks(selectors.ledger(actor=actor, filters=filters)),
            count=count,
            page_url=page_url,
        )
    _full_allowed(actor)
    ids = selectors.ledger_ids(actor=actor, filters=filters, limit=FULL_EXPORT_MAX)
    if len(ids) > FULL_EXPORT_MAX:
        raise too_many_for_full()

    def chunks() -> Iterator[list[Case]]:
        size = selectors.CHUNK_SIZE
        for start in range(0, len(ids), size):
            yield selectors.cases_by_ids(actor=actor, ids=ids[start : start + size])

    return Listing(
        title=_("台账"),
        stem="ledger",
        columns=case_columns(in_clear=lambda case: True),
        chunks=chunks,
        count=lambda cap: len(ids),
        full=True,
        before_rows=_logger(actor, ids),
        page_url=page_url,
    )


# --- the desk -------------------------------------------------------------------------------------


def desk_section_labels() -> dict[str, str]:
    """The desk's sections as its page names them."""
    return {
        "first_contact": _("我首问的案件（答复并满意前保留）"),
        "handling": _("我承办的案件"),
        "department": _("本部门在办案件"),
        "approval": _("待我审批"),
        "to_decide": _("待受理决定"),
        "to_dispatch": _("待派遣（含退单待重派）"),
        "review": _("待出具复查、复核意见"),
    }


def _desk_case(row: tuple[str, Case]) -> Case:
    return row[1]


def desk_listing(actor: Staff, query: QueryDict, full: bool) -> Listing:
    """Everything on the person's desk, section by section (``?section=`` one of them), each
    in the desk's order, a case once per section it is in. Full: the cases the person may
    see in the ledger are in clear and logged (at most FULL_EXPORT_MAX); any other row of
    the desk stays masked."""
    sections = selectors.my_desk(actor=actor)
    wanted = query.get("section", "")
    if wanted:
        if wanted not in sections:
            raise ValidationFailed({"section": [_("工作台栏目：请从列表中选择。")]})
        sections = {wanted: sections[wanted]}
    labels = desk_section_labels()
    logged: set[int] = set()
    before_rows = None
    if full:
        _full_allowed(actor)
        every: set[int] = set()
        for qs in sections.values():
            every.update(qs.values_list("pk", flat=True)[: FULL_EXPORT_MAX + 1])
            if len(every) > FULL_EXPORT_MAX:
                raise too_many_for_full()
        logged = set(selectors.cases_for(actor).filter(pk__in=every).values_list("pk", flat=True))
        before_rows = _logger(actor, sorted(logged))

    def chunks() -> Iterator[list[tuple[str, Case]]]:
        for key, qs in sections.items():
            label = labels.get(key, key)
            for chunk in selectors.ledger_chunks(qs):
                yield [(label, case) for case in chunk]

    def count(cap: int) -> int:
        counted = 0
        for qs in sections.values():
            counted += qs.order_by()[: cap + 1 - counted].count()
            if counted > cap:
                break
        return counted

    return Listing(
        title=_("我的工作台"),
        stem="desk",
        columns=[
            Column(_("栏目"), lambda row: row[0], 24),
            *case_columns(in_clear=lambda case: case.pk in logged, case_of=_desk_case),
        ],
        chunks=chunks,
        count=count,
        full=full,
        before_rows=before_rows,
        page_url=reverse("cases:desk"),
    )
