"""The retention rule (F81, ``huiyin retention apply``) for what the front office keeps
outside any case: the subscriber table's ``record_erasers`` call these with the running
preset's ``retention`` rule and the moment before which the period is over.

* **Visitors**: a visit whose day (``expected_on``) is before the cutoff loses the visitor's
  name, phone, work unit and document number (and their look-up hashes); the row stays with
  its day, times, host, badge, status and feedback form, so the figures do not change.
* **Guest receptions** finished before the cutoff (their last day; refused, cancelled, or
  closed and not waiting for finance): the guests lose their names, and with the rule's
  ``attachments: delete`` the expenses' receipt files are deleted and their names blanked
  (the rows keep item, amount, date and size: the cost report does not change). The files
  go once the transaction has committed, as the cases' attachments do.

Each returns how many rows it erased (on a dry run: would erase).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from huiyin.orgs.models import Organization
from huiyin.policy.presets import Retention

from .models import Expense, Guest, GuestReception, ReceptionStatus, Reimbursement, Visitor


def erase_visitors(
    organization: Organization, *, rule: Retention, cutoff: datetime, now: datetime, dry_run: bool
) -> int:
    before = timezone.localtime(cutoff).date()
    visitors = Visitor.objects.filter(organization=organization, expected_on__lt=before, erased_at__isnull=True)
    if dry_run:
        return visitors.count()
    return visitors.update(
        name="", phone="", phone_hash="", affiliation="", id_number="", id_number_hash="", erased_at=now
    )


def _finished_receptions(organization: Organization, cutoff: datetime):
    before = timezone.localtime(cutoff).date()
    done = Q(status__in=(ReceptionStatus.REFUSED, ReceptionStatus.CANCELLED)) | Q(status=ReceptionStatus.CLOSED) & ~Q(
        reimbursement=Reimbursement.SUBMITTED
    )
    return GuestReception.objects.filter(organization=organization, ends_on__lt=before).filter(done)


def erase_guests(organization: Organization, *, rule: Retention, cutoff: datetime, now: datetime, dry_run: bool) -> int:
    """The guests' names and, by the attachment rule, the receipts' files."""
    receptions = _finished_receptions(organization, cutoff)
    guests = Guest.objects.filter(reception__in=receptions, erased_at__isnull=True)
    receipts = Expense.objects.filter(reception__in=receptions, erased_at__isnull=True).exclude(receipt="")
    if rule.attachments != "delete":
        receipts = receipts.none()
    if dry_run:
        return guests.count() + receipts.count()
    erased = guests.update(name="", erased_at=now)
    rows = list(receipts.only("pk", "receipt"))
    names = [e.receipt.name for e in rows if e.receipt.name]
    storage = Expense._meta.get_field("receipt").storage
    Expense.objects.filter(pk__in=[e.pk for e in rows]).update(receipt="", receipt_name="", erased_at=now)

    def delete_files() -> None:
        for name in names:
            storage.delete(name)  # FileSystemStorage ignores a file already gone

    transaction.on_commit(delete_files)
    return erased + len(rows)
