"""Signed webhooks: a real HTTP receiver on the loopback, signatures checked as a receiver would."""

from __future__ import annotations

import http.server
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from huiyin.api import webhooks
from huiyin.api.models import Webhook, WebhookDelivery
from huiyin.cases import services
from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.events import EventKind
from tests.conftest import intake, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(settings):
    """The receivers here listen on the loopback, which an installation must allow by name."""
    settings.HUIYIN_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


class Receiver:
    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _deliveries_for(event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        dispatch_after_commit(event.pk)
    return list(WebhookDelivery.objects.filter(event=event))


def test_registration_reaches_the_receiver_signed(org, clerk, receiver, django_capture_on_commit_callbacks):
    hook = Webhook.objects.create(organization=org, url=receiver.url, secret="s3cret", event_types=["registered"])
    case, _code = services.case_register(actor=clerk, data=intake())
    event = case.events.get(kind=EventKind.REGISTERED)
    [delivery] = _deliveries_for(event, django_capture_on_commit_callbacks)
    webhooks.attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.response_code == 200 and delivery.attempts == 1
    [(headers, body)] = receiver.received
    assert headers["X-Huiyin-Event"] == "registered"
    assert webhooks.verify("s3cret", headers["X-Huiyin-Timestamp"], headers["X-Huiyin-Signature"], body)
    assert not webhooks.verify("other", headers["X-Huiyin-Timestamp"], headers["X-Huiyin-Signature"], body)
    assert not webhooks.verify("s3cret", headers["X-Huiyin-Timestamp"], headers["X-Huiyin-Signature"], body + b" ")
    old = str(int(headers["X-Huiyin-Timestamp"]) - 3600)
    assert not webhooks.verify("s3cret", old, webhooks.sign("s3cret", int(old), body), body)  # a replay
    assert case.number in body.decode()
    hook.refresh_from_db()
    assert hook.failures == 0


def test_failures_are_retried_then_given_up_and_the_receiver_disabled(
    org, clerk, django_capture_on_commit_callbacks, monkeypatch
):
    failing = Receiver(status=500)
    try:
        hook = Webhook.objects.create(
            organization=org, url=failing.url, secret="k", failures=webhooks.DISABLE_AFTER - 1
        )
        case, _code = services.case_register(actor=clerk, data=intake())
        [delivery] = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            webhooks.attempt(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.response_code == 500 and delivery.attempts == 1
        assert len(queued) == 1  # the next attempt, scheduled with backoff
        for _ in range(webhooks.MAX_ATTEMPTS - 1):
            with django_capture_on_commit_callbacks(execute=False):
                webhooks.attempt(delivery.pk)
        delivery.refresh_from_db()
        hook.refresh_from_db()
        assert delivery.status == "failed" and delivery.attempts == webhooks.MAX_ATTEMPTS
        assert len(failing.received) == webhooks.MAX_ATTEMPTS
        assert not hook.active  # DISABLE_AFTER deliveries in a row given up
        # Manual redelivery starts again.
        hook.active = True
        hook.save()
        failing.status = 204
        with django_capture_on_commit_callbacks(execute=False):
            call_command("webhook", "redeliver", "--org", org.code, str(delivery.pk))
        webhooks.attempt(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "delivered" and delivery.response_code == 204
    finally:
        failing.close()


def test_an_unreachable_receiver_is_logged_not_raised(org, clerk, django_capture_on_commit_callbacks):
    Webhook.objects.create(organization=org, url="http://127.0.0.1:9/nothing", secret="k")
    case, _code = services.case_register(actor=clerk, data=intake())
    [delivery] = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        webhooks.attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.response_code is None and delivery.last_error


class VerifyingReceiver(Receiver):
    """A receiver that checks each delivery as a real one should: the signature with the secret
    it was given, and a recent timestamp; anything else is refused with 401."""

    def __init__(self, secret: str):
        self.secret = secret
        super().__init__(status=204)
        self.refused = 0
        outer = self
        handler = self.server.RequestHandlerClass

        def do_post(request):
            body = request.rfile.read(int(request.headers["Content-Length"]))
            ok = webhooks.verify(
                outer.secret, request.headers["X-Huiyin-Timestamp"], request.headers["X-Huiyin-Signature"], body
            )
            outer.received.append((dict(request.headers), body))
            outer.refused += 0 if ok else 1
            request.send_response(204 if ok else 401)
            request.end_headers()

        handler.do_POST = do_post


def test_a_receiver_checking_signatures_accepts_the_right_secret_and_refuses_a_wrong_one(
    org, clerk, django_capture_on_commit_callbacks
):
    receiver = VerifyingReceiver("the-shared-secret")
    try:
        good = Webhook.objects.create(organization=org, url=receiver.url, secret="the-shared-secret")
        bad = Webhook.objects.create(organization=org, url=receiver.url, secret="an-old-secret")
        case, _code = services.case_register(actor=clerk, data=intake())
        deliveries = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
        by_hook = {d.webhook_id: d for d in deliveries}
        webhooks.attempt(by_hook[good.pk].pk)
        with django_capture_on_commit_callbacks(execute=False) as retry:
            webhooks.attempt(by_hook[bad.pk].pk)
        delivered, refused = (WebhookDelivery.objects.get(pk=by_hook[h.pk].pk) for h in (good, bad))
        assert delivered.status == "delivered" and delivered.response_code == 204
        assert refused.status == "pending" and refused.response_code == 401 and refused.last_error == "HTTP 401"
        assert len(retry) == 1 and receiver.refused == 1  # the refusal is retried later, with backoff
    finally:
        receiver.close()


def test_the_signing_secret_is_encrypted_at_rest(org):
    """The column holds a token, never the secret; the model reads the secret back to sign."""
    hook = Webhook.objects.create(organization=org, url="https://example.org/hook", secret="the-shared-secret")
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM api_webhook WHERE id = %s", [hook.pk])
        stored = cur.fetchone()[0]
    assert "the-shared-secret" not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert Webhook.objects.get(pk=hook.pk).secret == "the-shared-secret"


def test_a_callback_note_is_a_callback_recorded_event(org, clerk):
    case, _code = services.case_register(actor=clerk, data=intake())
    note = services.case_record_event(case, kind=EventKind.NOTE, actor=clerk, data={"callback_id": 1, "text": "x"})
    assert webhooks.event_type(note) == "callback_recorded"
    plain_note = services.case_record_event(case, kind=EventKind.NOTE, actor=clerk, data={"text": "备注"})
    assert webhooks.event_type(plain_note) is None


def test_the_administrator_manages_receivers_reads_the_log_and_redelivers(
    client, org, clerk, django_capture_on_commit_callbacks
):
    admin = make_staff(org, "admin", ["admin"])
    client.force_login(admin)
    assert client.get("/administration/webhooks/").status_code == 200
    refused = client.post("/administration/webhooks/", {"url": "ftp://example.org/x", "event_types": ["fly"]})
    assert refused.status_code == 400 and not Webhook.objects.exists()
    receiver = VerifyingReceiver("")
    try:
        page = client.post("/administration/webhooks/", {"url": receiver.url, "event_types": ["registered"]})
        assert page.status_code == 200
        hook = Webhook.objects.get()
        secret = page.content.decode().split("data-webhook-secret>")[1].split("<")[0]
        assert secret == hook.secret and hook.event_types == ["registered"]
        assert secret not in client.get("/administration/webhooks/").content.decode()  # shown once
        receiver.secret = secret
        case, _code = services.case_register(actor=clerk, data=intake())
        [delivery] = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
        webhooks.attempt(delivery.pk)
        log = client.get("/administration/webhooks/deliveries/", {"status": "delivered"}).content.decode()
        assert case.number in log and ">204<" in log and "登记" in log
        with django_capture_on_commit_callbacks(execute=False) as queued:
            again = client.post(f"/administration/webhooks/deliveries/{delivery.pk}/redeliver/")
        assert again.status_code == 302 and len(queued) == 1
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.attempts == 0
        webhooks.attempt(delivery.pk)
        assert len(receiver.received) == 2 and receiver.refused == 0
        assert client.post(f"/administration/webhooks/{hook.pk}/active/", {"active": "0"}).status_code == 302
        hook.refresh_from_db()
        assert not hook.active
        Webhook.objects.filter(pk=hook.pk).update(failures=webhooks.DISABLE_AFTER)
        client.post(f"/administration/webhooks/{hook.pk}/active/", {"active": "1"})
        hook.refresh_from_db()
        assert hook.active and hook.failures == 0
    finally:
        receiver.close()
    assert client.get("/administration/webhooks/deliveries/", {"status": "nonsense"}).status_code == 400
    assert client.post("/administration/webhooks/999999/active/", {"active": "0"}).status_code == 404
    client.force_login(clerk)
    assert client.get("/administration/webhooks/").status_code == 403
    assert client.post(f"/administration/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:6379/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://0.0.0.0:8000/",
        "http://localhost:8000/",
        "https://a.localhost/hook",
    ],
)
def test_a_receiver_on_this_machine_or_a_private_network_is_refused(org, settings, url):
    """Server-side request forgery: an administrator cannot point deliveries at the service's
    own machine, the metadata service or the internal network (the delivery log would show
    what answers there)."""
    from huiyin.api.services import webhook_create  # noqa: PLC0415
    from huiyin.core.errors import ValidationFailed  # noqa: PLC0415

    settings.HUIYIN_WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationFailed) as refused:
        webhook_create(organization=org, url=url, event_types=[])
    assert "url" in refused.value.errors and "内网" in refused.value.errors["url"][0]
    assert not Webhook.objects.exists()


def test_a_network_the_operator_allows_takes_receivers(org, settings):
    from huiyin.api.services import webhook_create  # noqa: PLC0415

    settings.HUIYIN_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    hook, _secret = webhook_create(organization=org, url="http://10.20.3.4/hook", event_types=[])
    assert hook.url == "http://10.20.3.4/hook"
    assert webhooks.url_refusal("https://receiver.example.org/huiyin") is None  # a name: checked when sent


def test_a_delivery_to_a_name_resolving_to_this_machine_is_refused(
    org, clerk, receiver, settings, django_capture_on_commit_callbacks
):
    """The check runs again after the name is resolved (a public-looking name pointing inward)."""
    settings.HUIYIN_WEBHOOK_ALLOWED_NETWORKS = []
    Webhook.objects.create(organization=org, url=receiver.url.replace("127.0.0.1", "localhost"), secret="k")
    case, _code = services.case_register(actor=clerk, data=intake())
    [delivery] = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        webhooks.attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.response_code is None
    assert "non-public" in delivery.last_error
    assert receiver.received == []


def test_a_redirect_is_not_followed(org, clerk, settings, django_capture_on_commit_callbacks):
    """A receiver answering 302 towards another address gets a failed attempt, not a second POST."""
    target = Receiver()
    redirecting = Receiver(status=302)
    try:
        handler = redirecting.server.RequestHandlerClass

        def end_headers(request):
            request.send_header("Location", target.url)
            http.server.BaseHTTPRequestHandler.end_headers(request)

        handler.end_headers = end_headers
        Webhook.objects.create(organization=org, url=redirecting.url, secret="k")
        case, _code = services.case_register(actor=clerk, data=intake())
        [delivery] = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False):
            webhooks.attempt(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.response_code == 302
        assert len(redirecting.received) == 1 and target.received == []
    finally:
        redirecting.close()
        target.close()


def test_a_stopped_receivers_delivery_is_not_queued_again_for_ever(
    client, org, clerk, django_capture_on_commit_callbacks
):
    # Redelivery to a receiver the administrator stopped said "queued" and left the delivery
    # pending for ever (a stopped receiver's deliveries are never attempted): refused, saying why.
    admin = make_staff(org, "admin", ["admin"])
    hook = Webhook.objects.create(organization=org, url="http://127.0.0.1:9/nothing", secret="k")
    case, _code = services.case_register(actor=clerk, data=intake())
    [delivery] = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
    webhooks.attempt(delivery.pk)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    hook.active = False
    hook.save()
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(f"/administration/webhooks/deliveries/{delivery.pk}/redeliver/", follow=True)
    assert response.status_code == 200 and queued == []
    assert "该接收地址已停止推送：请先恢复推送，再重新发送。" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    with pytest.raises(CommandError, match="停止推送"):
        call_command("webhook", "redeliver", "--org", org.code, str(delivery.pk))


def test_resuming_a_receiver_sends_what_waited_while_it_was_stopped(
    client, org, clerk, receiver, settings, django_capture_on_commit_callbacks
):
    # A delivery made or retried while the receiver was stopped is skipped, left pending:
    # resuming said "恢复" and sent it never (nothing queued it again).
    admin = make_staff(org, "admin", ["admin"])
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    hook = Webhook.objects.create(organization=org, url=receiver.url, secret="k")
    case, _code = services.case_register(actor=clerk, data=intake())
    [delivery] = _deliveries_for(case.events.get(kind=EventKind.REGISTERED), django_capture_on_commit_callbacks)
    hook.active = False  # stopped after the event: its delivery waits
    hook.save()
    webhooks.attempt(delivery.pk)
    assert receiver.received == [] and WebhookDelivery.objects.get(pk=delivery.pk).status == "pending"
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/administration/webhooks/{hook.pk}/active/", {"active": "1"}).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.received) == 1
    with django_capture_on_commit_callbacks(execute=False) as queued:  # resuming a running one: nothing again
        client.post(f"/administration/webhooks/{hook.pk}/active/", {"active": "1"})
    assert queued == []
