"""Open311 GeoReport v2 at /open311/v2/: the specification's shapes in JSON and XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from huiyin.api import services as api_services
from huiyin.cases.actions import all_specs
from huiyin.cases.models import Case
from huiyin.orgs.actors import ActorKind
from huiyin.orgs.models import ExternalSystem
from huiyin.orgs.roles import Cap

pytestmark = pytest.mark.django_db
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@pytest.fixture
def plain(org):
    city_app = ExternalSystem.objects.create(
        organization=org, code="app", name="城市App", kind=ExternalSystem.Kind.API, caps=[Cap.REGISTER]
    )
    _key, plain = api_services.key_create(
        organization=org,
        name="open311",
        scopes=["read", "register"],
        action_names=[s.name for s in all_specs()],
        system=city_app,
    )
    return plain


def test_discovery_and_services_in_json_and_xml(client: Client, org, category):
    discovery = client.get("/open311/v2/discovery.json").json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert discovery["endpoints"][0]["formats"] == ["application/json", "text/xml"]
    services = client.get("/open311/v2/services.json", {"jurisdiction_id": org.code}).json()
    leaf = next(s for s in services if s["service_code"] == str(category.pk))
    assert set(leaf) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert leaf["service_name"] == "物业管理" and leaf["metadata"] is False and leaf["type"] == "realtime"
    xml = client.get("/open311/v2/services.xml")
    assert xml["Content-Type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services" and root.find("service/service_code") is not None
    definition = ET.fromstring(client.get(f"/open311/v2/services/{category.pk}.xml").content)
    assert definition.tag == "service_definition" and definition.findtext("service_code") == str(category.pk)


def test_post_then_get_a_request_like_any_other_case(client: Client, org, category, plain):
    posted = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": plain,
            "jurisdiction_id": org.code,
            "service_code": str(category.pk),
            "description": "小区路灯不亮已一周。",
            "address_string": "幸福路12号",
            "lat": "31.23",
            "long": "121.47",
            "first_name": "伟",
            "last_name": "张",
            "phone": "13812345678",
        },
    )
    assert posted.status_code == 201, posted.content
    [row] = posted.json()
    case = Case.objects.get(number=row["service_request_id"])
    assert case.submitter_kind == ActorKind.SYSTEM and case.category == category and case.channel == "online"
    assert case.events.filter(kind="registered").exists() and "幸福路12号" in case.location
    got = client.get(f"/open311/v2/requests/{case.number}.json", {"api_key": plain}).json()
    assert got[0]["service_request_id"] == case.number and got[0]["status"] == "open"
    assert W3C.match(got[0]["requested_datetime"])
    listed = ET.fromstring(client.get("/open311/v2/requests.xml", {"api_key": plain, "status": "open"}).content)
    assert listed.tag == "service_requests" and listed.findtext("request/service_request_id") == case.number
    assert client.get("/open311/v2/requests.json", {"api_key": plain, "status": "closed"}).json() == []


def test_errors_are_the_specifications_array(client: Client, org, category, plain):
    no_key = client.post("/open311/v2/requests.json", {"service_code": str(category.pk), "description": "x"})
    assert no_key.status_code == 403
    assert set(no_key.json()[0]) == {"code", "description"} and no_key.json()[0]["code"] == 403
    bad = client.post(
        "/open311/v2/requests.xml", {"api_key": plain, "service_code": str(category.pk), "description": ""}
    )
    assert bad.status_code == 400
    root = ET.fromstring(bad.content)
    assert root.tag == "errors" and root.findtext("error/code") == "400" and root.findtext("error/description")
    wrong = client.get("/open311/v2/requests.json", {"api_key": plain, "jurisdiction_id": "elsewhere"})
    assert wrong.status_code == 404
    assert client.get("/open311/v2/services/abc.json").status_code == 404
    assert client.get("/open311/v2/requests.json", {"api_key": plain, "start_date": "yesterday"}).status_code == 400
    assert not Case.objects.exists()
