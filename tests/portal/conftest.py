"""Fixtures for the public portal: organisations on the hotline and petition presets, a quick
proof of work, photos with EXIF, and a submission posted through the real form."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from huiyin.cases.models import Case
from huiyin.portal import challenge
from tests.handling.test_services import Flow
from tests.policy.conftest import _fresh_calendars, activate  # noqa: F401 - the autouse fixture, re-exported

NUMBER_RE = re.compile(r'id="receipt-number">(\d{8}-\d{5})<')
CODE_RE = re.compile(r'id="receipt-code">([23456789A-Z]{8})<')
GPS = {1: "N", 2: (30.0, 16.0, 27.5), 3: "E", 4: (120.0, 9.0, 12.0)}


@pytest.fixture(autouse=True)
def _quick_challenge(settings):
    """A proof of work of 8 bits: a few hundred hashes instead of 65,000 per submission."""
    settings.HUIYIN_PORTAL_POW_BITS = 8


@pytest.fixture
def clerk(org):
    """The staff who take online submissions: the office's website staff, whom the city
    hotline's preset names as the ones who accept online complaints (seeds/000 line 19)."""
    from huiyin.orgs.models import Department
    from huiyin.orgs.roles import Role
    from tests.conftest import make_staff

    office = Department.objects.create(organization=org, code="office", name="办公室", handles_cases=False)
    return make_staff(org, "clerk", [Role.INTAKE_CLERK], office)


@pytest.fixture
def hotline(org):
    """The city hotline's rules: anonymous online submissions allowed, callbacks, no review."""
    return activate(org, "city_hotline")


@pytest.fixture
def petition(org):
    """The petition office's rules: name and phone required online, approval, review."""
    return activate(org, "petition_office")


@pytest.fixture
def flow(clerk, handler, head, leader) -> Flow:
    return Flow(clerk=clerk, handler=handler, head=head, leader=leader)


def solved() -> dict[str, str]:
    issued = challenge.issue()
    return {"challenge": issued, "solution": challenge.solve(issued)}


def form_data(**overrides) -> dict:
    data = {
        "nature": "complaint",
        "title": "",
        "text": "小区东门路灯坏了一个多月，晚上很黑，老人出行不便，请尽快修复。",
        "location": "幸福路12号小区东门",
        "name": "李娜",
        "phone": "13900001111",
        "consent": "on",
        **solved(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def photo(width: int = 3000, height: int = 2000, *, gps: bool = True, name: str = "IMG_0001.jpg") -> SimpleUploadedFile:
    """A camera JPEG with the camera's EXIF: maker, orientation and, by default, a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "Phone Maker"  # Make
    exif[0x0132] = "2026:01:05 09:30:00"  # DateTime
    if gps:
        exif[ExifTags.IFD.GPSInfo] = GPS
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (180, 120, 60)).save(buffer, "JPEG", exif=exif.tobytes(), comment=b"hello")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def submit(client, org, *, files=(), **overrides):
    data = form_data(**overrides)
    if files:
        data["attachments"] = list(files)
    return client.post(f"/portal/{org.code}/submit/", data)


def receipt_of(client, org) -> tuple[Case, str]:
    """Follow the redirect to the receipt: the case and its query code (shown this once)."""
    page = client.get(f"/portal/{org.code}/receipt/")
    html = page.content.decode()
    number, code = NUMBER_RE.search(html).group(1), CODE_RE.search(html).group(1)
    return Case.objects.get(number=number, organization=org), code
