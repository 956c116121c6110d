"""A self-hosted proof of work on the submission form: no outside captcha service.

The server hands the form a challenge ``1.<nonce>.<issued>.<bits>.<mac>`` (an HMAC under
the secret key makes it unforgeable and says how hard it is); the browser
(``static/portal/pow.js``) finds a number ``n`` such that SHA-256 of ``<challenge>:<n>``
starts with ``bits`` zero bits and posts both. The server checks the mac, the age and the
work (one hash), and uses each challenge once: its nonce is recorded in the cache when the
submission goes ahead (``consume``), and it is also the registration's intake token, so a
replayed submission is refused even if the cache forgot.

Without JavaScript (an old phone, a text browser, a screen reader set up that way) the
form shows, inside ``<noscript>``, a small arithmetic question instead
(``issue_question``): a token ``2.<nonce>.<issued>.<mac>`` whose mac covers the answer, so
the server keeps nothing and the answer is not in the page. Such a question is easy for a
program too, so the path it opens is the slower one: its own, much lower rate limits
per address and for the whole site, and a wrong answer counts against the address
(``services.submit``; docs/decisions/0004-portal-without-javascript.md). Used once, like the proof of work.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from huiyin.core.errors import ApplicationError

from .errors import PortalError

VERSION = "1"
FIELD = "challenge"  # the form field the messages go next to
_SHAPE = re.compile(r"1\.([A-Za-z0-9_-]{16,32})\.(\d{1,12})\.(\d{1,2})\.([0-9a-f]{32})")
_SOLUTION = re.compile(r"\d{1,12}")
QUESTION_VERSION = "2"
QUESTION_FIELD = "answer"  # the form field the question's messages go next to
_QUESTION = re.compile(r"2\.([A-Za-z0-9_-]{16,32})\.(\d{1,12})\.([0-9a-f]{32})")
_ANSWER = re.compile(r"-?\d{1,4}")


@dataclass(frozen=True)
class Checked:
    nonce: str
    issued: int


def _mac(body: str) -> str:
    key = hashlib.sha256(b"huiyin.portal.challenge:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def issue(*, bits: int | None = None, now: float | None = None) -> str:
    bits = settings.HUIYIN_PORTAL_POW_BITS if bits is None else bits
    body = f"{VERSION}.{secrets.token_urlsafe(16)}.{int(time.time() if now is None else now)}.{bits}"
    return f"{body}.{_mac(body)}"


def zero_bits(digest: bytes) -> int:
    """Leading zero bits of a digest."""
    count = 0
    for byte in digest:
        if byte:
            return count + 8 - byte.bit_length()
        count += 8
    return count


def work(challenge: str, solution: str) -> int:
    return zero_bits(hashlib.sha256(f"{challenge}:{solution}".encode()).digest())


def bits_of(challenge: str) -> int:
    match = _SHAPE.fullmatch(challenge)
    return int(match.group(3)) if match else 0


def solve(challenge: str) -> str:
    """What the browser does (for tests and the benchmark's client)."""
    bits = bits_of(challenge)
    for n in itertools.count():
        if work(challenge, str(n)) >= bits:
            return str(n)
    raise AssertionError("unreachable")  # pragma: no cover


def _used_key(nonce: str) -> str:
    return f"portal:challenge:{nonce}"


def verify(challenge: str, solution: str) -> Checked:
    """The challenge is ours, fresh, not used and solved; else an error for the form."""
    challenge, solution = (challenge or "").strip(), (solution or "").strip()
    if not challenge or not solution:
        raise ApplicationError(
            _("安全验证未完成：请稍候片刻，待页面显示“安全验证已完成”后再提交。"),
            field=FIELD,
            code=PortalError.CHALLENGE_MISSING,
        )
    match = _SHAPE.fullmatch(challenge)
    invalid = ApplicationError(
        _("安全验证无效：请刷新页面后重新提交。"), field=FIELD, code=PortalError.CHALLENGE_INVALID
    )
    if match is None or not hmac.compare_digest(match.group(4), _mac(challenge.rsplit(".", 1)[0])):
        raise invalid
    nonce, issued, bits = match.group(1), int(match.group(2)), int(match.group(3))
    age = time.time() - issued
    if age < -60 or age > settings.HUIYIN_PORTAL_CHALLENGE_SECONDS:
        raise ApplicationError(
            _("页面停留时间过长，安全验证已过期：请重新提交（您填写的内容已保留）。"),
            field=FIELD,
            code=PortalError.CHALLENGE_EXPIRED,
        )
    if bits < settings.HUIYIN_PORTAL_POW_BITS or not _SOLUTION.fullmatch(solution) or work(challenge, solution) < bits:
        raise invalid
    if cache.get(_used_key(nonce)) is not None:
        raise replayed()
    return Checked(nonce=nonce, issued=issued)


def replayed() -> ApplicationError:
    return ApplicationError(
        _("这份表单已经提交过，没有重复登记。如需再次反映，请重新打开提交页面。"),
        field=FIELD,
        code=PortalError.REPLAYED,
    )


def consume(checked: Checked) -> None:
    """Use the challenge up; a second use is a replay."""
    if not cache.add(_used_key(checked.nonce), 1, timeout=settings.HUIYIN_PORTAL_CHALLENGE_SECONDS + 120):
        raise replayed()


def intake_token(checked: Checked) -> str:
    """The registration's one-time token (unique in the database): a replay that outlived the
    cache's record is refused there."""
    return f"portal-{checked.nonce}"


# --- without JavaScript: a question ------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    token: str  # the hidden field: nonce, time, and a mac over them and the answer
    text: str  # what the person reads: "27 加 5 等于几？"


def _question_mac(body: str, answer: int) -> str:
    return _mac(f"{body}={answer}")


def issue_question(*, now: float | None = None) -> Question:
    """An addition or a subtraction of small numbers, its answer sealed in the token."""
    a, b = secrets.randbelow(40) + 10, secrets.randbelow(9) + 1
    adding = secrets.randbelow(2) == 0
    answer = a + b if adding else a - b
    body = f"{QUESTION_VERSION}.{secrets.token_urlsafe(16)}.{int(time.time() if now is None else now)}"
    text = (_("%(a)d 加 %(b)d 等于几？") if adding else _("%(a)d 减 %(b)d 等于几？")) % {"a": a, "b": b}
    return Question(token=f"{body}.{_question_mac(body, answer)}", text=text)


def answer_of(question: Question) -> str:
    """The right answer (tests and the benchmark read the numbers off the text, as a person does)."""
    numbers = [int(n) for n in re.findall(r"\d+", question.text)]
    adding = "+" in question.text or "加" in question.text or "plus" in question.text
    return str(numbers[0] + numbers[1] if adding else numbers[0] - numbers[1])


def wrong_answer() -> ApplicationError:
    return ApplicationError(
        _("验证问题的答案不正确，请重新计算后填写（页面已换了一道新题）。"),
        field=QUESTION_FIELD,
        code=PortalError.ANSWER_WRONG,
    )


def verify_answer(token: str, answer: str) -> Checked:
    """The question is ours, fresh, not used and answered right; else an error for the form."""
    token = (token or "").strip()
    answer = unicodedata.normalize("NFKC", answer or "").strip()  # full-width digits from a phone keyboard
    if not answer:
        raise ApplicationError(
            _("请回答验证问题（用数字填写）。"), field=QUESTION_FIELD, code=PortalError.CHALLENGE_MISSING
        )
    match = _QUESTION.fullmatch(token)
    if match is None:
        raise ApplicationError(
            _("安全验证无效：请刷新页面后重新提交。"), field=QUESTION_FIELD, code=PortalError.CHALLENGE_INVALID
        )
    nonce, issued = match.group(1), int(match.group(2))
    age = time.time() - issued
    if age < -60 or age > settings.HUIYIN_PORTAL_CHALLENGE_SECONDS:
        raise ApplicationError(
            _("页面停留时间过长，安全验证已过期：请重新提交（您填写的内容已保留）。"),
            field=QUESTION_FIELD,
            code=PortalError.CHALLENGE_EXPIRED,
        )
    body = token.rsplit(".", 1)[0]
    if not _ANSWER.fullmatch(answer) or not hmac.compare_digest(match.group(3), _question_mac(body, int(answer))):
        raise wrong_answer()
    if cache.get(_used_key(nonce)) is not None:
        raise replayed()
    return Checked(nonce=nonce, issued=issued)
