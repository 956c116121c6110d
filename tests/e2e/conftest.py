"""Browser tests: real Chromium (Debian's package) driven by Playwright's sync API
against pytest-django's ``live_server``.

Playwright's own browser download does not work on our machines, so the browser is
the system one: ``/usr/bin/chromium`` or ``$HUIYIN_CHROMIUM``. Without it the tests
skip on a laptop and FAIL in CI (``CI`` or ``HUIYIN_REQUIRE_BROWSER=1`` set), so a CI
machine that lost its Chromium cannot go green by skipping them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API keeps an asyncio event loop on the main thread, which makes
# Django's async-safety check refuse ORM calls made by the test code itself.
# The live server answers requests on its own thread and is not affected.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

E2E_DIR = Path(__file__).resolve().parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",  # browser UI strings (file pickers) in Chinese, as on a clerk's desk
]
TIMEOUT_MS = 15_000


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is an e2e test (before ``-m`` selects on it)."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def browser_required() -> bool:
    return _flag("HUIYIN_REQUIRE_BROWSER") or _flag("CI")


def _unavailable(reason: str) -> None:
    if browser_required():
        pytest.fail(f"{reason} (browser tests are required here: CI or HUIYIN_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(
        f"BROWSER TESTS SKIPPED: {reason} — install Debian's chromium to run browser tests "
        "(apt-get install chromium) or point HUIYIN_CHROMIUM at a Chromium binary"
    )


def chromium_path() -> str:
    return os.environ.get("HUIYIN_CHROMIUM") or DEFAULT_CHROMIUM


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _unavailable(f"no Chromium at {path}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dev dependency
        _unavailable(f"playwright is not installed ({exc})")
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:
            _unavailable(f"Chromium at {path} did not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable]:
    """Pages in fresh browser contexts (own cookies) on the live server; JS errors fail the test."""
    contexts = []
    errors: list[str] = []

    def make():
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1366, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        # Whatever the Content-Security-Policy blocks (an inline script or style, a foreign source).
        page.on(
            "console",
            lambda msg: (
                errors.append(f"{page.url}: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations in the page: {errors}"


@pytest.fixture
def logged_in_page(new_page, live_server) -> Callable:
    """``logged_in_page("clerk")``: a page signed in as that user (the password checked), on
    the desk. The session is opened on the server as the login view opens it (Django's
    ``login`` with the backend a form login records, its ``user_logged_in`` receivers
    included: the session's login time, the password-change mark) and its cookie handed to
    the browser, which then opens the desk: a test about something else does not pay for the
    login page, the form's round trip and the password hash. The form itself is driven with
    ``via_form=True`` (tests/e2e/test_login_security.py, which also locks it out and passes
    the second factor)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from playwright.sync_api import expect

    def login(username: str, password: str | None = None, *, via_form: bool = False):
        page = new_page()
        password = password or f"pw-{username}"
        if via_form:
            page.goto("/login/")
            expect(page.locator("#id_username")).to_be_focused()
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            page.get_by_role("button", name="登录", exact=True).click()
        else:
            from huiyin.access import selectors
            from huiyin.access.permissions import must_enrol

            user = get_user_model()._default_manager.get_by_natural_key(username)
            assert user.is_active and user.check_password(password), f"{username} cannot log in with {password!r}"
            # A second factor is not skipped here: such a user signs in through the form.
            assert selectors.confirmed_device(user) is None and not must_enrol(user), f"{username}: use via_form"
            client = Client()
            client.force_login(user, backend="huiyin.access.backends.StaffBackend")
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            page.context.add_cookies(
                [
                    {  # as the login response sets it
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": cookie,
                        "url": live_server.url,
                        "httpOnly": settings.SESSION_COOKIE_HTTPONLY,
                        "secure": settings.SESSION_COOKIE_SECURE,
                        **({"sameSite": settings.SESSION_COOKIE_SAMESITE} if settings.SESSION_COOKIE_SAMESITE else {}),
                    }
                ]
            )
            page.goto("/cases/desk/")
        expect(page).to_have_url(re.compile(r"/cases/desk/$"))
        return page

    return login


def draw_signature(page, canvas) -> None:
    """Sign on a signature canvas with the mouse: a zigzag stroke."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 60)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 60 + (15 if step % 2 else -15))
    page.mouse.up()
