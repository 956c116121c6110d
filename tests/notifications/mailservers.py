"""Real mail servers on loopback for the e-mail tests: an SMTP server (aiosmtpd) that keeps
what it receives, a throwaway Dovecot IMAP server (Debian's dovecot-imapd, one user from a
passwd file, maildir in a temporary folder) and an HTTP SMS gateway (http.server).

Without Dovecot the IMAP tests skip — unless ``HUIYIN_REQUIRE_MAIL=1`` (CI sets it), when
they fail: a CI run must not pass without the real round trip."""

from __future__ import annotations

import base64
import contextlib
import email
import imaplib
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
REQUIRED = os.environ.get("HUIYIN_REQUIRE_MAIL") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"HUIYIN_REQUIRE_MAIL=1 but {reason}")
    pytest.skip(reason)


# --- SMTP ------------------------------------------------------------------------------------------


@dataclass
class SmtpServer:
    port: int
    received: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # recipients answered "550 no such user"

    def wait_for(self, count: int, seconds: float = 10.0) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address in self.server.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.server.received.append(message)
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server():
    from aiosmtpd.controller import Controller  # a test dependency, only where these tests run

    # aiosmtpd logs every command from its own thread, which may outlive a test's captured output.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = SmtpServer(port=free_port())
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


# --- IMAP (Dovecot) ------------------------------------------------------------------------------------

DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Done {{
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


@dataclass
class ImapServer:
    port: int
    user: str
    password: str
    root: Path

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Put a mail into the mailbox, as the mail system would deliver it."""
        conn = self.connect()
        try:
            status, _data = conn.append(mailbox, None, None, raw)
            assert status == "OK"
        finally:
            conn.logout()

    def uids(self, mailbox: str = "INBOX", criterion: str = "ALL") -> list[bytes]:
        conn = self.connect()
        try:
            conn.select(f'"{mailbox}"')
            _status, data = conn.uid("SEARCH", criterion)
            return (data[0] or b"").split()
        finally:
            conn.logout()

    def empty(self) -> None:
        conn = self.connect()
        try:
            for mailbox in ("INBOX", "Done"):
                _status, data = conn.select(f'"{mailbox}"')
                if int(data[0] or 0):
                    conn.store("1:*", "+FLAGS", "(\\Deleted)")
                    conn.expunge()
        finally:
            conn.logout()


@contextlib.contextmanager
def imap_server():
    if not os.path.exists(DOVECOT):
        unavailable("Dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="huiyin-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        login_user, internal_user = "dovenull", "dovecot"
        owner = pwd.getpwnam("dovecot")
    else:  # a developer's account: every process runs as them
        owner = pwd.getpwuid(os.geteuid())
        login_user = internal_user = owner.pw_name
    os.chown(root / "home", owner.pw_uid, owner.pw_gid)
    server = ImapServer(port=free_port(), user="intake", password="intake-pw-" + os.urandom(4).hex(), root=root)
    (root / "passwd").write_text(
        f"{server.user}:{{PLAIN}}{server.password}:{owner.pw_uid}:{owner.pw_gid}::{root}/home\n", encoding="utf-8"
    )
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(root=root, port=server.port, login_user=login_user, internal_user=internal_user),
        encoding="utf-8",
    )
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stderr=subprocess.PIPE)
    try:
        try:
            wait_for_port(server.port)
        except RuntimeError:
            process.kill()
            log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
            said = process.stderr.read().decode(errors="replace") if process.stderr else ""
            unavailable(f"Dovecot did not start: {said} {log}")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(root, ignore_errors=True)


# --- an HTTP SMS gateway --------------------------------------------------------------------------------


@dataclass
class SmsGateway:
    port: int
    received: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer first
    seen_keys: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"


@contextlib.contextmanager
def sms_gateway(user: str = "huiyin", password: str = "gateway-secret"):
    gateway = SmsGateway(port=free_port())
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
            if gateway.fail_next:
                self.send_response(gateway.fail_next.pop(0))
                self.end_headers()
                return
            payload = json.loads(body)
            key = self.headers.get("Idempotency-Key", "")
            if key in gateway.seen_keys:
                self.send_response(409)  # delivered before: the gateway honours the key
                self.end_headers()
                return
            gateway.seen_keys.add(key)
            gateway.received.append(payload)
            gateway.headers.append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "queued"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", gateway.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
