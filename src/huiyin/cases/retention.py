"""Retention and deletion of personal data (F81): ``huiyin retention apply [--dry-run]``.

Each organisation's running policy says, in its preset's ``retention`` section, how long
a finished case keeps its complainant's personal data. A case has finished when it is
closed, archived, not accepted, not re-accepted, returned or transferred; its period
runs from ``closed_at`` or, where there is none, from its last state change. Once it is
over:

* the parties of the case (complainant, representatives, the callers of its contacts)
  lose their name, phone, ID number, address and work unit (and look-up hashes), unless
  a party also belongs to a case still within its period: then it is kept and counted;
* with ``attachments: delete`` the attachments' files are deleted and their file names
  blanked (the row stays with its size and date); with ``keep`` they stay;
* other apps' personal data on the case go through the subscriber table's ``erasers``
  (the interviewees' names on investigation records);
* personal data apps keep outside any case go through its ``record_erasers``, each with
  the same period counted from its own date (the front office's visitors and guests, the
  receipts of guest receptions by the attachment rule, bookings that never became a case);
* outbound messages (SMS) older than the shortest period in force lose recipient and text.

What statistics count stays: the case rows with their numbers, channels, categories,
dates and states, the contacts, rounds and the event log, untouched (events are
append-only and keep their hash chain; they hold party ids, never party fields).
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from huiyin.core.models import OutboundMessage
from huiyin.orgs.models import Organization
from huiyin.policy.presets import Retention
from huiyin.policy.services.versions import current_policy

from . import bus
from .events import EventKind
from .models import Attachment, Case, Contact, Event, Party
from .workflow import CaseState

log = logging.getLogger(__name__)

ENDED_STATES = (
    CaseState.CLOSED,
    CaseState.ARCHIVED,
    CaseState.NOT_ACCEPTED,
    CaseState.NOT_REACCEPTED,
    CaseState.RETURNED,
    CaseState.TRANSFERRED,
    CaseState.MERGED,
)
_CHUNK = 500


@dataclass
class RetentionReport:
    """What the rule did (or, on a dry run, would do) in one organisation."""

    organization: Organization
    rule: Retention | None
    cutoff: datetime | None = None
    cases: int = 0  # finished before the cutoff
    parties_erased: int = 0
    parties_kept: int = 0  # also on a case still within its period
    attachments_deleted: int = 0
    attachments_kept: int = 0  # the rule keeps them
    others: dict[str, int] = field(default_factory=dict)  # the table's erasers


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day if shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def cutoff_for(rule: Retention, now: datetime) -> datetime:
    """Cases that finished before this moment are past their period."""
    if rule.unit == "days":
        return now - timedelta(days=rule.keep_for)
    return months_before(now, rule.keep_for * (12 if rule.unit == "years" else 1))


def rule_for(organization: Organization) -> Retention | None:
    policy = current_policy(organization)
    return policy.preset().retention if policy else None


def expired_cases(organization: Organization, cutoff: datetime) -> QuerySet[Case]:
    last_change = Event.objects.filter(case=OuterRef("pk"), kind=EventKind.STATE_CHANGED).order_by("-id")
    return (
        Case.objects.filter(organization=organization, state__in=ENDED_STATES)
        .annotate(_ended=Coalesce("closed_at", Subquery(last_change.values("at")[:1])))
        .filter(_ended__lt=cutoff)
    )


def _party_ids(cases: QuerySet[Case]) -> set[int]:
    ids = set(cases.exclude(party=None).values_list("party_id", flat=True))
    ids |= set(Case.co_parties.through.objects.filter(case__in=cases).values_list("party_id", flat=True))
    ids |= set(Contact.objects.filter(case__in=cases).exclude(party=None).values_list("party_id", flat=True))
    return ids


def _still_needed(organization: Organization, candidates: set[int], expired: QuerySet[Case]) -> set[int]:
    """The candidates that also belong to a case of the organisation still within its period."""
    live = Case.objects.filter(organization=organization).exclude(pk__in=expired.values("pk"))
    kept: set[int] = set()
    ids = sorted(candidates)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        kept |= set(live.filter(party_id__in=chunk).values_list("party_id", flat=True))
        kept |= set(
            Case.co_parties.through.objects.filter(case__in=live, party_id__in=chunk).values_list("party_id", flat=True)
        )
        kept |= set(Contact.objects.filter(case__in=live, party_id__in=chunk).values_list("party_id", flat=True))
    return kept


def _erase_parties(ids: list[int], now: datetime) -> None:
    for start in range(0, len(ids), _CHUNK):
        Party.objects.filter(pk__in=ids[start : start + _CHUNK]).update(
            name="",
            phone="",
            phone_hash="",
            id_number="",
            id_number_hash="",
            address="",
            affiliation="",
            email="",
            email_hash="",
            gender="",
            age=None,
            erased_at=now,
        )


def _erase_attachments(attachments: QuerySet[Attachment], now: datetime) -> int:
    """Blank the rows now; delete the files once the transaction has committed (a rolled-back
    run must not leave rows pointing at deleted files)."""
    rows = list(attachments.only("pk", "file"))
    names = [a.file.name for a in rows if a.file.name]
    storage = Attachment._meta.get_field("file").storage
    Attachment.objects.filter(pk__in=[a.pk for a in rows]).update(file="", original_name="", erased_at=now)

    def delete_files() -> None:
        for name in names:
            storage.delete(name)  # FileSystemStorage ignores a file already gone

    transaction.on_commit(delete_files)
    return len(rows)


def apply_to(organization: Organization, *, now: datetime, dry_run: bool) -> RetentionReport:
    rule = rule_for(organization)
    report = RetentionReport(organization=organization, rule=rule)
    if rule is None:
        return report
    report.cutoff = cutoff_for(rule, now)
    with transaction.atomic():
        expired = expired_cases(organization, report.cutoff)
        report.cases = expired.count()
        candidates = set(
            Party.objects.filter(pk__in=_party_ids(expired), erased_at__isnull=True).values_list("pk", flat=True)
        )
        kept = _still_needed(organization, candidates, expired)
        erase = sorted(candidates - kept)
        report.parties_erased, report.parties_kept = len(erase), len(kept)
        attachments = Attachment.objects.filter(case__in=expired, erased_at__isnull=True)
        if rule.attachments == "delete":
            report.attachments_deleted = attachments.count() if dry_run else _erase_attachments(attachments, now)
        else:
            report.attachments_kept = attachments.count()
        for name, eraser in bus.table().erasers:
            report.others[name] = eraser(expired, dry_run=dry_run)
        for name, eraser in bus.table().record_erasers:
            report.others[name] = eraser(organization, rule=rule, cutoff=report.cutoff, now=now, dry_run=dry_run)
        if not dry_run:
            _erase_parties(erase, now)
    return report


def erase_old_messages(reports: list[RetentionReport], *, dry_run: bool) -> int:
    """Outbound messages older than the shortest period in force lose recipient and text
    (the row and its key stay: a rerun of the task still finds it was sent)."""
    cutoffs = [r.cutoff for r in reports if r.cutoff is not None]
    if not cutoffs:
        return 0
    old = OutboundMessage.objects.filter(created_at__lt=max(cutoffs)).exclude(recipient="", body="")
    if dry_run:
        return old.count()
    return old.update(recipient="", body="")


def retention_apply(
    *, now: datetime | None = None, dry_run: bool = False, organizations: QuerySet[Organization] | None = None
) -> tuple[list[RetentionReport], int]:
    """Apply (or, with ``dry_run``, count) every organisation's retention rule; returns the
    reports and the outbound messages blanked. Logs counts only, never personal data."""
    now = now or timezone.now()
    orgs = organizations if organizations is not None else Organization.objects.order_by("pk")
    reports = [apply_to(org, now=now, dry_run=dry_run) for org in orgs]
    messages = erase_old_messages(reports, dry_run=dry_run)
    for r in reports:
        log.info(
            "retention%s %s: %d cases past the period, %d parties erased, %d kept, %d attachment files deleted, %s",
            " (dry run)" if dry_run else "",
            r.organization.code,
            r.cases,
            r.parties_erased,
            r.parties_kept,
            r.attachments_deleted,
            r.others,
        )
    return reports, messages


def summary(report: RetentionReport) -> dict[str, Any]:
    return {
        "organization": report.organization.code,
        "rule": None
        if report.rule is None
        else f"{report.rule.keep_for} {report.rule.unit}, attachments {report.rule.attachments}",
        "cutoff": report.cutoff.isoformat() if report.cutoff else None,
        "cases": report.cases,
        "parties_erased": report.parties_erased,
        "parties_kept": report.parties_kept,
        "attachments_deleted": report.attachments_deleted,
        "attachments_kept": report.attachments_kept,
        **report.others,
    }
