"""The e-mail channel (F01): each new mail in the complaint mailbox becomes a case, or a
contact on the case it answers; a mail that cannot (malformed, oversized, a file the
upload checks refuse, no usable sender) is parked for an intake clerk. Nothing is lost:
the mail is marked taken on the server only after its case, contact or parked row has
committed, and a mail seen again (same Message-ID) is recognised and only marked.

A mail answers a case when its In-Reply-To / References name a message the case sent or
received, or when its subject carries the case's number; it is added to the case only when
its sender is a person the case knows (else it is parked: both are easy to forge). The complainant's auto-receipt
with the query code is the registration's receipt message (``subscribers.receipt_on_registered``),
sent to the sender's address.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import mimetypes
import os
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.cases.models import Case, Channel
from huiyin.cases.selectors import case_knows_email
from huiyin.cases.services import case_register, contact_add, derive_title
from huiyin.cases.validation import TITLE_MAX, attachment_errors
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import ApplicationError
from huiyin.core.locks import xact_lock
from huiyin.core.privacy import mask_email
from huiyin.core.validators import clean_text
from huiyin.orgs.actors import mailbox_actor
from huiyin.orgs.models import Organization

from .imap import ImapConfig, Mailbox, MailboxError
from .models import InboundMail, MailStatus, Message
from .rendering import one_line

log = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
CASE_NUMBER = re.compile(r"(?<!\d)(\d{8}-\d{5})(?!\d)")
# Defects that mean the structure cannot be trusted (a part may be missing or merged).
# How deep attached mails are unfolded (a forward of a forward of a forward); deeper is parked.
FORWARD_DEPTH = 3
# Bytes of one header's raw value. The e-mail package reads a header in time growing with
# the square of its words (a 720 KB subject: 21 s); a longer one parks the mail unread.
HEADER_MAX = 16 * 1024
STRUCTURAL_DEFECTS = (
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MissingHeaderBodySeparatorDefect",
    "NoBoundaryInMultipartDefect",
)


# --- reading a mail -----------------------------------------------------------------------------


class _Text(HTMLParser):
    """The readable text of an HTML body: paragraphs and line breaks kept, scripts dropped."""

    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", text)).strip()


@dataclass
class ParsedMail:
    message_id: str
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[SimpleUploadedFile] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # names of attachments the upload checks refused
    problems: list[str] = field(default_factory=list)  # why a clerk must look at it

    @property
    def ok(self) -> bool:
        return not self.problems


def _message_id(msg: EmailMessage | None, raw: bytes) -> str:
    value = ""
    if msg is not None:
        with contextlib.suppress(Exception):  # a garbled header is as good as none
            value = str(msg.get("Message-ID", "") or "")
    match = MESSAGE_ID.search(value)
    return match.group(0) if match else f"<sha256:{hashlib.sha256(raw).hexdigest()[:48]}>"


def _header(msg: EmailMessage, name: str) -> str:
    """A header's decoded value on one line: an encoded word may carry CR/LF (a subject that
    would be a title of two lines, a display name that hid a valid From address)."""
    try:
        return one_line(clean_text(str(msg.get(name, "") or "")))
    except Exception:  # the email package refuses e.g. CR/LF in a display name: read it raw
        return _raw_header(msg, name)


def _sender(msg: EmailMessage) -> tuple[str, str]:
    """(address, display name) of From, or ("", "") when it is not one valid address."""
    addresses = getaddresses([_header(msg, "From")])
    if len(addresses) != 1:
        return "", ""
    name, address = addresses[0]
    address = address.strip().lower()
    try:
        validate_email(address)
    except DjangoValidationError:
        return "", ""
    return address, clean_text(name).strip()[:60]


def _automatic(msg: EmailMessage, sender: str) -> bool:
    """A bounce or an automatic reply (RFC 3834 Auto-Submitted, a delivery report, a mailer daemon)."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    return sender.partition("@")[0] in ("mailer-daemon", "postmaster")


def _body(msg: EmailMessage, parsed: ParsedMail) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, KeyError, AttributeError) as exc:
        parsed.problems.append(_("邮件正文无法解码（%(error)s）。") % {"error": type(exc).__name__})
        return ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return clean_text(content).strip()


def _forwarded(part: EmailMessage, parsed: ParsedMail, depth: int) -> None:
    """An attached mail (message/rfc822, a forward "as attachment"): its text joins the
    case's under a heading, its files are checked like the outer mail's; deeper than
    FORWARD_DEPTH it is a clerk's to read (the raw mail is kept with the parked row)."""
    if depth >= FORWARD_DEPTH:
        parsed.problems.append(_("邮件中附带的邮件嵌套超过 %(n)d 层。") % {"n": FORWARD_DEPTH})
        return
    inner = part.get_content()
    if not isinstance(inner, EmailMessage):
        parsed.problems.append(_("附带的邮件无法读取。"))
        return
    heading = _("—— 附带的邮件 ——")
    lines = [heading]
    for label, name in ((_("发件人"), "From"), (_("日期"), "Date"), (_("主题"), "Subject")):
        value = _header(inner, name)
        if value:
            lines.append(f"{label}：{value}")
    text = _body(inner, parsed)
    parsed.text = "\n\n".join(filter(None, [parsed.text, "\n".join(lines), text]))
    _attachments(inner, parsed, depth + 1)


def _attachments(msg: EmailMessage, parsed: ParsedMail, depth: int = 0) -> None:
    limit = settings.HUIYIN_MAIL_MAX_ATTACHMENTS
    for index, part in enumerate(msg.iter_attachments(), 1):
        if len(parsed.attachments) + len(parsed.refused) >= limit:
            # Thousands of tiny files fit in one mail: each would be a file and a row. A clerk looks.
            too_many = _("邮件附件过多：上限 %(max)d 个。") % {"max": limit}
            if too_many not in parsed.problems:  # once, however deep the forwards go
                parsed.problems.append(too_many)
            return
        if part.get_content_type() == "message/rfc822":
            _forwarded(part, parsed, depth)
            continue
        try:
            name = clean_text(part.get_filename() or "").strip().replace("/", "_").replace("\\", "_")
            payload = part.get_payload(decode=True)
        except (LookupError, UnicodeError, ValueError) as exc:
            parsed.problems.append(
                _("第 %(n)d 个附件无法读取（%(error)s）。") % {"n": index, "error": type(exc).__name__}
            )
            continue
        if not isinstance(payload, bytes):
            parsed.problems.append(_("第 %(n)d 个附件无法读取。") % {"n": index})
            continue
        if not name:
            name = f"attachment-{index}{mimetypes.guess_extension(part.get_content_type()) or '.bin'}"
        upload = SimpleUploadedFile(name[:200], payload, content_type=part.get_content_type())
        errors = attachment_errors(upload)
        if errors:
            parsed.refused.append(name)
            parsed.problems.extend(m for messages in errors.values() for m in messages)
        else:
            parsed.attachments.append(upload)


# A long thread's references may be long: read raw (message ids are ASCII), the newest kept.
THREAD_HEADERS = frozenset({"references", "in-reply-to"})


def _raw_value(msg: EmailMessage, name: str) -> str:
    """A header's value as it came, unparsed ("" without it)."""
    return next((value for key, value in msg.raw_items() if key.lower() == name.lower()), "")


def _message_ids(msg: EmailMessage, name: str) -> list[str]:
    """The message ids a thread header names, the last HEADER_MAX bytes of it (the newest)."""
    return MESSAGE_ID.findall(_raw_value(msg, name)[-HEADER_MAX:])


def _oversized_header(msg: EmailMessage) -> tuple[str, int] | None:
    """The first header (of the mail or any of its parts; the thread's aside) longer than
    HEADER_MAX, and its length, read raw: nothing is parsed."""
    for part in msg.walk():
        for name, value in part.raw_items():
            if len(value) > HEADER_MAX and name.lower() not in THREAD_HEADERS:
                return name, len(value)
    return None


def _raw_header(msg: EmailMessage, name: str) -> str:
    """A header decoded from at most HEADER_MAX of its raw characters (encoded words only)."""
    raw = _raw_value(msg, name)
    try:
        # 8-bit text in a header (UTF-8 sent unencoded) arrives as surrogate escapes.
        text = raw[:HEADER_MAX].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return one_line(clean_text(str(make_header(decode_header(text))))) if text else ""
    except Exception:  # an undecodable header: treated as missing
        return ""


def _unread(msg: EmailMessage, raw: bytes, name: str, length: int) -> ParsedMail:
    """A mail with a header past HEADER_MAX: parked for a clerk, its subject and sender read
    from their raw text (cut), nothing else."""
    parsed = ParsedMail(message_id=_message_id(None, raw))
    parsed.subject = _raw_header(msg, "Subject")[:500]
    addresses = getaddresses([_raw_header(msg, "From")])
    if len(addresses) == 1:
        with contextlib.suppress(DjangoValidationError):
            validate_email(addresses[0][1].strip().lower())
            parsed.sender = addresses[0][1].strip().lower()
            parsed.sender_name = clean_text(addresses[0][0]).strip()[:60]
    parsed.problems.append(
        _("邮件头“%(name)s”过长：%(n)d 字节，上限 %(max)d 字节；原件已保留，请在邮箱中查看。")
        % {"name": name[:40], "n": length, "max": HEADER_MAX}
    )
    return parsed


def parse(raw: bytes) -> ParsedMail:
    """Read a mail; ``problems`` says (in Chinese, naming the part) why it needs a clerk."""
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # whatever the parser chokes on: the mail is parked, not lost
        parsed = ParsedMail(message_id=_message_id(None, raw))
        parsed.problems.append(_("邮件格式无法解析（%(error)s）。") % {"error": type(exc).__name__})
        return parsed
    assert isinstance(msg, EmailMessage)  # policy.default builds EmailMessage objects
    oversized = _oversized_header(msg)
    if oversized is not None:
        return _unread(msg, raw, *oversized)
    parsed = ParsedMail(message_id=_message_id(msg, raw))
    parsed.subject = _header(msg, "Subject")
    parsed.sender, parsed.sender_name = _sender(msg)
    for name in ("In-Reply-To", "References"):
        parsed.references += _message_ids(msg, name)
    defects = sorted({type(d).__name__ for d in msg.defects if type(d).__name__ in STRUCTURAL_DEFECTS})
    if defects:
        parsed.problems.append(_("邮件结构有误：%(defects)s。") % {"defects": "、".join(defects)})
    if not parsed.sender:
        parsed.problems.append(_("发件人地址缺失或无效，无法回复。"))
    elif _automatic(msg, parsed.sender):
        # A bounce or an auto-reply would get a receipt, which would bounce again: a clerk looks.
        parsed.problems.append(_("自动回复或退信，未自动登记。"))
    parsed.text = _body(msg, parsed)
    try:
        _attachments(msg, parsed)
    except Exception as exc:  # a broken MIME tree
        parsed.problems.append(_("附件无法读取（%(error)s）。") % {"error": type(exc).__name__})
    if not parsed.text and not parsed.subject:
        parsed.problems.append(_("邮件没有主题和正文。"))
    limit = settings.HUIYIN_TEXT_MAX_CHARS
    if len(parsed.text) > limit:
        parsed.problems.append(_("邮件正文过长：%(n)d 字，上限 %(max)d 字。") % {"n": len(parsed.text), "max": limit})
    return parsed


# --- what a mail becomes ---------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str  # a MailStatus, or "duplicate"
    mail: InboundMail


def mail_organization() -> Organization:
    code = settings.HUIYIN_MAIL_ORGANIZATION
    if code:
        org = Organization.objects.filter(code=code).first()
        if org is None:
            raise ImproperlyConfigured(f"HUIYIN_MAIL_ORGANIZATION names no organisation: {code}")
        return org
    orgs = list(Organization.objects.order_by("pk")[:2])
    if len(orgs) != 1:
        raise ImproperlyConfigured("set HUIYIN_MAIL_ORGANIZATION: the mailbox belongs to which organisation?")
    return orgs[0]


def _answered_case(org: Organization, parsed: ParsedMail) -> Case | None:
    """The case whose thread the mail answers, or whose number its subject carries."""
    if parsed.references:
        case_id = (
            Message.objects.filter(organization=org, message_id__in=parsed.references, case__isnull=False)
            .values_list("case_id", flat=True)
            .first()
        ) or (
            InboundMail.objects.filter(organization=org, message_id__in=parsed.references, case__isnull=False)
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id:
            return Case.objects.filter(pk=case_id).first()
    for number in CASE_NUMBER.findall(parsed.subject):
        case = Case.objects.filter(organization=org, number=number).first()
        if case is not None:
            return case
    return None


def raw_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "mail"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def keep_raw(raw: bytes, message_id: str) -> str:
    """The raw mail of a parked message, readable by the service's account only."""
    name = hashlib.sha256(message_id.encode()).hexdigest()[:40] + ".eml"
    path = raw_dir() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    return name


def read_raw(mail: InboundMail) -> bytes | None:
    if not mail.raw_path:
        return None
    path = raw_dir() / Path(mail.raw_path).name
    return path.read_bytes() if path.exists() else None


def _intake_text(parsed: ParsedMail) -> tuple[str, str]:
    """(title, text) for the case: the subject as title when it fits, else from the text."""
    subject = parsed.subject
    text = parsed.text or subject
    if subject and len(subject) <= TITLE_MAX:
        return subject, text
    if subject:
        return derive_title(subject, TITLE_MAX), f"{subject}\n\n{text}".strip()
    return derive_title(text, TITLE_MAX), text


def _row(org: Organization, parsed: ParsedMail, *, status: str, size: int, **more) -> InboundMail:
    return InboundMail.objects.create(
        organization=org,
        message_id=parsed.message_id,
        status=status,
        sender=parsed.sender,
        sender_masked=mask_email(parsed.sender),
        subject=parsed.subject[:500],
        text=parsed.text,
        size=size,
        received_at=timezone.now(),
        **more,
    )


def _park(org: Organization, parsed: ParsedMail, raw: bytes | None, size: int, reasons: list[str]) -> InboundMail:
    raw_path = keep_raw(raw, parsed.message_id) if raw is not None else ""
    try:
        return _row(org, parsed, status=MailStatus.PARKED, size=size, raw_path=raw_path, reason=" ".join(reasons)[:300])
    except BaseException:
        if raw_path:
            (raw_dir() / raw_path).unlink(missing_ok=True)
        raise


def take(raw: bytes, *, organization: Organization) -> Outcome:
    """One mail's fate, committed in one transaction (case or contact and its row, or the
    parked row); a Message-ID seen before changes nothing."""
    parsed = parse(raw)
    with transaction.atomic():
        xact_lock(f"mail:{organization.pk}:{parsed.message_id}")
        seen = InboundMail.objects.filter(organization=organization, message_id=parsed.message_id).first()
        if seen is not None:
            return Outcome("duplicate", seen)
        if not parsed.ok:
            return Outcome(MailStatus.PARKED, _park(organization, parsed, raw, len(raw), parsed.problems))
        actor = mailbox_actor(organization)
        party = PartyInput(name=parsed.sender_name, email=parsed.sender)
        title, text = _intake_text(parsed)
        answered = _answered_case(organization, parsed)
        if (
            answered is not None
            and answered.state != CaseState.ARCHIVED
            and not case_knows_email(answered, parsed.sender)
        ):
            # A case number is easy to guess and a thread's Message-ID easy to copy: a mail
            # from an address the case does not know is not added to it; a clerk decides.
            reason = _("邮件指向案件 %(number)s，但发件人不是该案件的反映人，请核实后处理。") % {
                "number": answered.number
            }
            return Outcome(MailStatus.PARKED, _park(organization, parsed, raw, len(raw), [reason]))
        try:
            with transaction.atomic():
                if answered is not None and answered.state != CaseState.ARCHIVED:
                    contact_add(
                        actor=actor,
                        case_id=answered.pk,
                        channel=Channel.EMAIL,
                        text=f"{parsed.subject}\n\n{parsed.text}".strip(),
                        party=party,
                        uploads=parsed.attachments,
                    )
                    return Outcome(
                        MailStatus.CONTACT,
                        _row(organization, parsed, status=MailStatus.CONTACT, size=len(raw), case=answered),
                    )
                data = IntakeInput(
                    channel=Channel.EMAIL,
                    nature=settings.HUIYIN_MAIL_NATURE,
                    title=title,
                    text=text,
                    party=party,
                )
                case, _code = case_register(actor=actor, data=data, uploads=parsed.attachments)
                return Outcome(
                    MailStatus.REGISTERED,
                    _row(organization, parsed, status=MailStatus.REGISTERED, size=len(raw), case=case),
                )
        except ApplicationError as exc:
            reasons = [m for messages in exc.field_errors().values() for m in messages]
            return Outcome(MailStatus.PARKED, _park(organization, parsed, raw, len(raw), reasons))


def take_oversized(headers: bytes, *, size: int, organization: Organization) -> Outcome:
    """A mail over ``HUIYIN_MAIL_MAX_BYTES``: parked from its headers; it stays on the server."""
    parsed = parse(headers)
    parsed.problems = [
        _("邮件过大：%(size).1f MB，上限 %(max).1f MB；原件保留在邮箱中，请在邮箱中查看。")
        % {"size": size / 1048576, "max": settings.HUIYIN_MAIL_MAX_BYTES / 1048576}
    ]
    with transaction.atomic():
        xact_lock(f"mail:{organization.pk}:{parsed.message_id}")
        seen = InboundMail.objects.filter(organization=organization, message_id=parsed.message_id).first()
        if seen is not None:
            return Outcome("duplicate", seen)
        return Outcome(MailStatus.PARKED, _park(organization, parsed, None, size, parsed.problems))


@dataclass
class PollResult:
    taken: int = 0
    registered: int = 0
    contacts: int = 0
    parked: int = 0
    duplicates: int = 0
    errors: int = 0

    def count(self, status: str) -> None:
        self.taken += 1
        if status == MailStatus.REGISTERED:
            self.registered += 1
        elif status == MailStatus.CONTACT:
            self.contacts += 1
        elif status == MailStatus.PARKED:
            self.parked += 1
        else:
            self.duplicates += 1


def poll(*, limit: int = 100) -> PollResult:
    """Take up to ``limit`` new mails from the mailbox. A mail is marked taken only after
    its transaction committed; one that fails unexpectedly stays unmarked for the next
    poll. A lost connection ends the poll (the next one carries on)."""
    if not settings.HUIYIN_IMAP_HOST:
        raise ImproperlyConfigured("HUIYIN_IMAP_HOST is not set: there is no mailbox to poll")
    organization = mail_organization()
    result = PollResult()
    with Mailbox(ImapConfig.from_settings()) as box:
        for uid in box.new_uids()[:limit]:
            try:
                size = box.size(uid)
                if size > settings.HUIYIN_MAIL_MAX_BYTES:
                    outcome = take_oversized(box.headers(uid), size=size, organization=organization)
                    box.taken(uid, move=False)  # the original stays where a person can open it
                else:
                    outcome = take(box.message(uid), organization=organization)
                    box.taken(uid)
            except (MailboxError, imaplib.IMAP4.error, OSError):
                raise
            except Exception:  # this mail only: logged, left for the next poll
                log.exception("mail %s could not be taken in; it stays in the mailbox", uid)
                result.errors += 1
                continue
            result.count(outcome.status)
    log.info(
        "mail poll: %d taken (%d cases, %d contacts, %d parked, %d seen before), %d left for later",
        result.taken,
        result.registered,
        result.contacts,
        result.parked,
        result.duplicates,
        result.errors,
    )
    return result
