"""Signed webhooks: a real HTTP receiver on the loopback, signatures checked as a receiver would."""

from __future__ import annotations

import http.server
import threading

import pytest
from django.core.management import call_command

from huiyin.api import webhooks
from huiyin.api.models import Webhook, WebhookDelivery
from huiyin.cases import services
from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.events import EventKind
from tests.conftest import intake

pytestmark = pytest.mark.django_db


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
