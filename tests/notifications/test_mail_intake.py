"""The e-mail channel (F01) against a real IMAP server (Dovecot on loopback) and a real SMTP
server (aiosmtpd): a mail delivered into the mailbox becomes a case, its auto-receipt with
the query code reaches the sender, the answer goes out by e-mail in the same thread, and the
complainant's reply lands on the case. Duplicates are recognised by Message-ID; malformed,
oversized or unacceptable mail is parked for a clerk; nothing is marked on the server
before what it became is committed."""

from __future__ import annotations

import base64
import io
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from huiyin.cases.models import Attachment, Case, Contact
from huiyin.cases.services import case_answer_on_spot
from huiyin.notifications import intake, services
from huiyin.notifications.models import InboundMail, MailStatus, Message

pytestmark = pytest.mark.django_db

SENDER = "li.na@example.org"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color=(0, 120, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def mail(
    *,
    subject: str = "小区路灯坏了一个月",
    text: str = "幸福小区3号楼前的路灯坏了一个月，晚上很危险。",
    sender: str = f"李娜 <{SENDER}>",
    message_id: str | None = None,
    in_reply_to: str = "",
    files: tuple[tuple[str, bytes, str], ...] = (),
) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "intake@hotline.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(text)
    for name, data, mime in files:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(), msg["Message-ID"]


def poll(capture):
    with capture(execute=True):
        return intake.poll()


def test_round_trip_mail_in_receipt_out_answer_out_reply_in(
    org, clerk, imap, smtp, immediate_tasks, django_capture_on_commit_callbacks
):
    raw, message_id = mail(files=(("photo.png", png(), "image/png"),))
    imap.deliver(raw)
    result = poll(django_capture_on_commit_callbacks)
    assert (result.taken, result.registered) == (1, 1)
    case = Case.objects.get()
    assert case.channel == "email" and case.title == "小区路灯坏了一个月" and "路灯坏了一个月" in case.text
    assert case.party.email == SENDER and case.party.name == "李娜" and case.submitter_kind == "public"
    assert [a.original_name for a in Attachment.objects.filter(case=case)] == ["photo.png"]
    assert InboundMail.objects.get().message_id == message_id
    # Marked on the server (moved to Done) only now that the case is committed.
    assert imap.uids("INBOX") == [] and len(imap.uids("Done")) == 1
    # The auto-receipt with the query code reached the sender through the SMTP server.
    [receipt] = smtp.wait_for(1)
    assert receipt["To"] == SENDER and case.number in str(receipt["Subject"])
    code = receipt.get_content().split("查询码：")[1][:8]
    from huiyin.cases.services import query_code_matches

    assert query_code_matches(case, code)
    assert receipt["In-Reply-To"] == message_id  # in the complainant's own thread
    # The answer goes out by e-mail too.
    with django_capture_on_commit_callbacks(execute=True):
        case_answer_on_spot(actor=clerk, case_id=case.pk, reply="已通知物业，路灯已于今日修复。", method="portal")
    answer = smtp.wait_for(2)[1]
    assert answer["To"] == SENDER and "路灯已于今日修复" in answer.get_content()
    # The complainant answers that mail: a contact on the same case, no new case.
    reply, _reply_id = mail(
        subject=f"Re: {answer['Subject']}", text="谢谢，已经修好了。", in_reply_to=answer["Message-ID"]
    )
    imap.deliver(reply)
    result = poll(django_capture_on_commit_callbacks)
    assert (result.taken, result.contacts) == (1, 1) and Case.objects.count() == 1
    contact = Contact.objects.filter(case=case, is_initial=False).get()
    assert contact.channel == "email" and "已经修好了" in contact.text and contact.staff is None
    assert len(smtp.wait_for(3, seconds=1)) == 2  # no receipt for a contact


def test_a_case_number_in_the_subject_adds_to_that_case(
    org, clerk, imap, immediate_tasks, django_capture_on_commit_callbacks
):
    imap.deliver(mail()[0])
    poll(django_capture_on_commit_callbacks)
    case = Case.objects.get()
    imap.deliver(mail(subject=f"关于{case.number}的补充", text="补充：路灯杆也歪了。", sender=SENDER.upper())[0])
    result = poll(django_capture_on_commit_callbacks)
    assert result.contacts == 1 and Case.objects.count() == 1
    assert Contact.objects.filter(case=case, text__contains="路灯杆也歪了").exists()


def test_a_mail_naming_someone_elses_case_is_parked_not_added_to_it(
    org, clerk, immediate_tasks, django_capture_on_commit_callbacks
):
    """Anyone can put a case number in a subject or copy a thread's Message-ID into
    In-Reply-To: a mail from an address the case does not know never lands on it."""
    with django_capture_on_commit_callbacks(execute=True):
        intake.take(mail()[0], organization=org)
    case = Case.objects.get()
    sent = Message.objects.get(case=case)  # the receipt to the complainant, with its Message-ID
    stranger = "王五 <wang@example.org>"
    by_number = intake.take(mail(subject=f"关于{case.number}的补充", sender=stranger)[0], organization=org)
    by_thread = intake.take(mail(subject="Re: 回执", sender=stranger, in_reply_to=sent.message_id)[0], organization=org)
    for outcome in (by_number, by_thread):
        assert outcome.status == MailStatus.PARKED and outcome.mail.case is None
        assert case.number in outcome.mail.reason and "不是该案件的反映人" in outcome.mail.reason
    assert not Contact.objects.filter(case=case, is_initial=False).exists() and Case.objects.count() == 1
    # The complainant's own answer in the same thread still lands on the case.
    own = intake.take(mail(subject="Re: 回执", in_reply_to=sent.message_id)[0], organization=org)
    assert own.status == MailStatus.CONTACT and own.mail.case == case


def test_the_same_message_twice_is_one_case(org, imap, immediate_tasks, django_capture_on_commit_callbacks):
    raw, _mid = mail()
    imap.deliver(raw)
    imap.deliver(raw)  # sent twice, or copied back by someone
    result = poll(django_capture_on_commit_callbacks)
    assert (result.taken, result.registered, result.duplicates) == (2, 1, 1)
    assert Case.objects.count() == 1 and InboundMail.objects.count() == 1
    assert imap.uids("INBOX") == []


def test_malformed_and_unacceptable_mail_is_parked_and_a_clerk_decides(
    org, clerk, client, imap, immediate_tasks, django_capture_on_commit_callbacks
):
    imap.deliver(mail(sender="not an address")[0])
    imap.deliver(
        mail(
            subject="投诉材料",
            files=(("photo.png", png(), "image/png"), ("run.exe", b"MZ\x90", "application/octet-stream")),
        )[0]
    )
    result = poll(django_capture_on_commit_callbacks)
    assert (result.taken, result.parked, result.registered) == (2, 2, 0) and not Case.objects.exists()
    assert imap.uids("INBOX") == []  # taken (parked rows committed): never picked up again
    by_subject = {m.subject: m for m in InboundMail.objects.all()}  # the subject is stored encrypted
    no_sender, with_exe = by_subject["小区路灯坏了一个月"], by_subject["投诉材料"]
    assert "发件人" in no_sender.reason and "run.exe" in with_exe.reason and with_exe.raw_path
    client.force_login(clerk)
    page = client.get(reverse("notifications:mail")).content.decode()
    assert "投诉材料" in page and "l***@example.org" in page and SENDER not in page
    # Register the one with the program attached: the photo is kept, the program is not.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("notifications:mail_register", args=[with_exe.pk]),
            {"nature": "complaint", "title": "投诉材料", "text": with_exe.text, "version": with_exe.version},
        )
    assert response.status_code == 302
    case = Case.objects.get()
    assert [a.original_name for a in Attachment.objects.filter(case=case)] == ["photo.png"]
    assert case.party.email == SENDER and case.channel == "email" and case.first_contact == clerk
    with_exe.refresh_from_db()
    assert with_exe.status == MailStatus.REGISTERED and with_exe.case == case
    assert not (intake.raw_dir() / with_exe.raw_path).exists()
    # A second register of the same mail (another tab) is refused, nothing more is created.
    again = client.post(
        reverse("notifications:mail_register", args=[with_exe.pk]),
        {"nature": "complaint", "title": "x", "text": "x", "version": with_exe.version},
    )
    assert again.status_code == 400 and Case.objects.count() == 1
    # Discard the other one: a reason is required.
    url = reverse("notifications:mail_discard", args=[no_sender.pk])
    assert client.post(url, {"reason": "", "version": no_sender.version}).status_code == 400
    assert client.post(url, {"reason": "垃圾邮件", "version": no_sender.version}).status_code == 302
    no_sender.refresh_from_db()
    assert no_sender.status == MailStatus.DISCARDED and no_sender.discard_reason == "垃圾邮件"


def test_oversized_mail_is_parked_and_left_on_the_server(
    org, imap, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    settings.HUIYIN_MAIL_MAX_BYTES = 2000
    imap.deliver(mail(text="很长的材料。" * 400)[0])
    result = poll(django_capture_on_commit_callbacks)
    assert result.parked == 1 and not Case.objects.exists()
    parked = InboundMail.objects.get()
    assert "过大" in parked.reason and parked.raw_path == "" and parked.sender == SENDER
    assert imap.uids("INBOX", "ALL") and imap.uids("INBOX", "UNSEEN") == []  # still there, marked read


def test_a_mail_is_marked_only_after_its_case_is_committed(
    org, imap, settings, tmp_path, immediate_tasks, django_capture_on_commit_callbacks
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker  # the attachment cannot be stored: the registration fails
    imap.deliver(mail(files=(("photo.png", png(), "image/png"),))[0])
    with pytest.raises(OSError):
        poll(django_capture_on_commit_callbacks)
    assert not Case.objects.exists() and not InboundMail.objects.exists()
    assert len(imap.uids("INBOX", "UNSEEN")) == 1  # untouched: the next poll takes it
    settings.MEDIA_ROOT = tmp_path / "media"
    assert poll(django_capture_on_commit_callbacks).registered == 1
    assert Case.objects.count() == 1 and imap.uids("INBOX") == []


def test_the_poll_command(org, imap, immediate_tasks, capsys):
    imap.deliver(mail()[0])
    call_command("huiyin_mail", "poll")
    assert "taken 1: 1 cases" in capsys.readouterr().out
    assert Case.objects.count() == 1


def test_parse_reads_html_and_refuses_what_it_cannot_read():
    html = (
        b"From: a@example.org\r\nSubject: =?utf-8?b?5Z6D5Zy+?=\r\nMessage-ID: <h@x>\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>\xe7\xac\xac\xe4\xb8\x80\xe8\xa1\x8c</p><script>x()</script>"
    )
    parsed = intake.parse(html)
    assert parsed.ok and parsed.subject == "垃圾" and parsed.text == "第一行" and parsed.message_id == "<h@x>"
    broken = intake.parse(b"From: a@example.org\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe")
    assert not broken.ok and any("无法解码" in p for p in broken.problems)
    assert broken.message_id.startswith("<sha256:")  # no Message-ID: the content's hash
    bounce = intake.parse(mail(sender="MAILER-DAEMON@example.org", subject="Undelivered Mail Returned to Sender")[0])
    auto = intake.parse(b"From: b@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\naway")
    assert not bounce.ok and not auto.ok and all("自动回复或退信" in p.problems[0] for p in (bounce, auto))


def test_line_breaks_in_encoded_headers_are_read_on_one_line(org, immediate_tasks):
    # A display name or subject sent as an encoded word may decode to CR/LF: the From address
    # (valid) was refused as "missing or invalid" and the mail parked, and a subject became a
    # title of two lines (its CR then stopped the staff's dispatch e-mail naming the title).
    def word(text: str) -> str:
        return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="

    raw = (
        f"From: {word('李娜' + chr(13) + chr(10) + '（业主）')} <{SENDER}>\r\n"
        f"Subject: {word('小区路灯' + chr(13) + chr(10) + '坏了一个月')}\r\nMessage-ID: <crlf@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n3号楼前的路灯坏了。"
    ).encode()
    parsed = intake.parse(raw)
    assert parsed.ok, parsed.problems
    assert parsed.sender == SENDER and parsed.sender_name == "李娜 （业主）"
    assert parsed.subject == "小区路灯 坏了一个月"
    outcome = intake.take(raw, organization=org)
    assert outcome.status == MailStatus.REGISTERED and outcome.mail.case.title == "小区路灯 坏了一个月"


def test_a_huge_header_parks_the_mail_unread(org):
    # The e-mail package reads a header in time growing with the square of its words: a
    # 720 KB subject took 21 s, 3 MB of references over a minute, each poll again. A header
    # past HEADER_MAX parks the mail, named, without reading it.
    many = "路灯 " * 20000
    raw = (
        f"From: 李娜 <{SENDER}>\r\nSubject: {many}\r\nMessage-ID: <huge@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n3号楼前的路灯坏了。"
    ).encode()
    parsed = intake.parse(raw)
    assert parsed.problems == [
        f"邮件头“Subject”过长：{len(many.encode())} 字节，上限 {intake.HEADER_MAX} 字节；原件已保留，请在邮箱中查看。"
    ]
    assert parsed.sender == SENDER and parsed.subject.startswith("路灯 路灯") and len(parsed.subject) == 500
    outcome = intake.take(raw, organization=org)
    assert outcome.status == MailStatus.PARKED and not Case.objects.exists()


def test_a_long_threads_references_are_read_raw_the_newest_kept(org):
    ids = [f"<{i}@x>" for i in range(20000)]  # 180 KB: 0.4 s to parse, 3 MB over a minute
    raw, _id = mail()
    raw = raw.replace(b"\nSubject:", ("\nReferences: " + " ".join(ids) + "\nSubject:").encode(), 1)
    parsed = intake.parse(raw)
    assert parsed.ok and parsed.references[-1] == ids[-1]
    assert len(" ".join(parsed.references)) <= intake.HEADER_MAX
    assert intake.take(raw, organization=org).status == MailStatus.REGISTERED


def test_messages_sent_to_a_case_are_found_by_their_thread(
    org, clerk, immediate_tasks, django_capture_on_commit_callbacks
):
    from huiyin.cases.inputs import PartyInput
    from huiyin.cases.services import case_register
    from tests.conftest import intake as intake_data

    with django_capture_on_commit_callbacks(execute=True):
        case, _code = case_register(actor=clerk, data=intake_data(party=PartyInput(name="李娜", email=SENDER)))
    sent = Message.objects.get(case=case)
    raw, _mid = mail(subject="Re: 回执", text="收到", in_reply_to=sent.message_id)
    parsed = intake.parse(raw)
    assert intake._answered_case(org, parsed) == case
    assert "/portal/c/" in services.case_link(case)  # the link provider of the subscriber table


def test_a_mail_forwarded_as_an_attachment_keeps_its_text_and_files(org, immediate_tasks):
    """A complainant forwards the property company's notice "as attachment" (message/rfc822):
    its text and its file land on the case, not silently dropped; a forward nested deeper
    than intake.FORWARD_DEPTH is parked for a clerk."""

    def forward(inner: EmailMessage, subject: str = "转发物业通知") -> EmailMessage:
        outer = EmailMessage()
        outer["From"], outer["Subject"], outer["Message-ID"] = f"李娜 <{SENDER}>", subject, make_msgid()
        outer.set_content("请看附件中的物业通知，已经停水三天了。")
        outer.add_attachment(inner)
        return outer

    notice = EmailMessage()
    notice["From"], notice["Subject"] = "物业服务中心 <wy@example.org>", "停水通知"
    notice.set_content("因管道维修，明日全天停水。")
    notice.add_attachment(png(), maintype="image", subtype="png", filename="notice.png")
    outcome = intake.take(forward(notice).as_bytes(), organization=org)
    assert outcome.status == MailStatus.REGISTERED
    case = outcome.mail.case
    assert "已经停水三天了" in case.text and "停水通知" in case.text and "明日全天停水" in case.text
    assert [a.original_name for a in Attachment.objects.filter(case=case)] == ["notice.png"]
    deep = notice
    for _level in range(intake.FORWARD_DEPTH + 1):
        deep = forward(deep)
    parked = intake.take(deep.as_bytes(), organization=org)
    assert parked.status == MailStatus.PARKED and "嵌套" in parked.mail.reason


def test_a_mail_with_too_many_files_is_parked_not_thousands_of_rows(org, settings):
    settings.HUIYIN_MAIL_MAX_ATTACHMENTS = 3
    files = tuple((f"p{i}.png", png(), "image/png") for i in range(50))
    outcome = intake.take(mail(files=files)[0], organization=org)
    assert outcome.status == MailStatus.PARKED and "附件过多" in outcome.mail.reason
    assert outcome.mail.reason.count("附件过多") == 1
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert intake.take(mail(files=files[:3])[0], organization=org).status == MailStatus.REGISTERED


@pytest.mark.django_db(transaction=True)
def test_the_same_message_taken_by_two_pollers_at_once_is_one_case(org, immediate_tasks):
    """Two pollers (a restart overlapping the old one) take the same mail at the same moment."""
    import threading

    from django.db import connection

    raw, _mid = mail()
    start, outcomes, errors = threading.Barrier(3), [], []

    def poller():
        try:
            start.wait()
            outcomes.append(intake.take(raw, organization=org).status)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=poller) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(outcomes) == ["duplicate", "duplicate", MailStatus.REGISTERED]
    assert Case.objects.count() == 1 and InboundMail.objects.count() == 1
