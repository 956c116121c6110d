"""Open311 GeoReport v2 at /open311/v2/: the specification's shapes in JSON and XML, checked
against the specification's own example documents (http://wiki.open311.org/GeoReport_v2),
the token flow of a deferred request, and an independent client library (``georeport``)
reading a live server."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from huiyin.api import open311
from huiyin.api import services as api_services
from huiyin.api.models import Open311Submission
from huiyin.cases.actions import all_specs
from huiyin.cases.models import Case
from huiyin.orgs.actors import ActorKind
from huiyin.orgs.models import ExternalSystem
from huiyin.orgs.roles import Cap

pytestmark = pytest.mark.django_db
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")

# --- the specification's example responses (GeoReport v2, "Example response" of each method) ---------

SPEC_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>Cans left out 24x7</service_name>
<description>Garbage or recycling cans that have been left out for more than 24 hours after collection.
Violators will be cited.</description><metadata>true</metadata><type>realtime</type>
<keywords>lorem, ipsum, dolor</keywords><group>sanitation</group></service></services>"""
SPEC_SERVICES_JSON = [
    {
        "service_code": "001",
        "service_name": "Cans left out 24x7",
        "description": "Garbage or recycling cans that have been left out for more than 24 hours after collection.",
        "metadata": True,
        "type": "realtime",
        "keywords": "lorem, ipsum, dolor",
        "group": "sanitation",
    }
]
SPEC_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition><service_code>DMV66</service_code><attributes><attribute><variable>true</variable>
<code>WHISHETN</code><datatype>singlevaluelist</datatype><required>true</required>
<datatype_description></datatype_description><order>1</order>
<description>What is the ticket/tag/DL number?</description><values><value><key>123</key><name>Ford</name>
</value><value><key>124</key><name>Chrysler</name></value></values></attribute></attributes>
</service_definition>"""
SPEC_DEFINITION_JSON = {
    "service_code": "DMV66",
    "attributes": [
        {
            "variable": True,
            "code": "WHISHETN",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "What is the ticket/tag/DL number?",
            "values": [{"key": 123, "name": "Ford"}, {"key": 124, "name": "Chrysler"}],
        }
    ],
}
SPEC_POSTED_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>293944</service_request_id>
<service_notice>The City will inspect and require the responsible party to correct within 24 hours</service_notice>
<account_id/></request></service_requests>"""
SPEC_POSTED_JSON = [{"service_request_id": 293944, "service_notice": "The City will inspect", "account_id": None}]
SPEC_TOKEN_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><token>12345</token></request>
</service_requests>"""
SPEC_TOKEN_JSON = [{"service_request_id": 638344, "token": 12345}]
SPEC_REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><status>closed</status>
<status_notes>Duplicate request.</status_notes><service_name>Sidewalk and Curb Issues</service_name>
<service_code>006</service_code><description></description><agency_responsible></agency_responsible>
<service_notice></service_notice><requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
<updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
<expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime><address>8TH AVE and JUDAH ST</address>
<address_id>545483</address_id><zipcode>94122</zipcode><lat>37.762221815</lat><long>-122.4651145</long>
<media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg </media_url></request>
</service_requests>"""
SPEC_REQUESTS_JSON = [
    {
        "service_request_id": 638344,
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "description": None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-14T06:37:38-08:00",
        "expected_datetime": "2010-04-15T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "address_id": 545483,
        "zipcode": 94122,
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
    }
]
SPEC_ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>Invalid api_key received -- can't proceed with create_request.
</description></error></errors>"""
# The specification's example POST, with this organisation's service code and attributes.
SPEC_POST = (
    "api_key={key}&jurisdiction_id=hotline&service_code={code}&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
    "&first_name=john&last_name=smith&phone=13812345678&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[nature]=report&attribute[title]=Sinkhole"
)


def xml_shape(element: ET.Element) -> Any:
    """The element's name and its children's shapes (one per name: the structure, not the data)."""
    children: dict[str, Any] = {}
    for child in element:
        children.setdefault(child.tag, xml_shape(child))
    return (element.tag, tuple(sorted(children.items())))


def json_shape(value: Any) -> Any:
    if isinstance(value, list):
        return ["item", json_shape(value[0])] if value else ["item"]
    if isinstance(value, dict):
        return {key: json_shape(v) for key, v in value.items()}
    return "value"


def same_keys(ours: Any, spec: Any) -> None:
    """Every element the specification's example has, ours has, and nothing else."""
    assert json_shape(ours) == json_shape(spec), (json_shape(ours), json_shape(spec))


@pytest.fixture
def city_app(org):
    return ExternalSystem.objects.create(
        organization=org, code="app", name="城市App", kind=ExternalSystem.Kind.API, caps=[Cap.REGISTER]
    )


@pytest.fixture
def plain(org, city_app):
    _key, plain = api_services.key_create(
        organization=org,
        name="open311",
        scopes=["read", "register"],
        action_names=[s.name for s in all_specs()],
        system=city_app,
    )
    return plain


def post_form(client: Client, fmt: str, body: str):
    return client.post(f"/open311/v2/requests.{fmt}", body, content_type="application/x-www-form-urlencoded")


def test_discovery_and_services_have_the_specifications_shape(client: Client, org, category):
    discovery = client.get("/open311/v2/discovery.json").json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert discovery["endpoints"][0]["formats"] == ["application/json", "text/xml"]
    services = client.get("/open311/v2/services.json", {"jurisdiction_id": org.code}).json()
    leaf = next(s for s in services if s["service_code"] == str(category.pk))
    same_keys(leaf, SPEC_SERVICES_JSON[0])
    assert leaf["service_name"] == "物业管理" and leaf["metadata"] is True and leaf["type"] == "realtime"
    assert leaf["group"] == "城乡建设"
    xml = client.get("/open311/v2/services.xml")
    assert xml["Content-Type"] == "text/xml; charset=utf-8"
    assert xml.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(xml.content)
    assert xml_shape(root) == xml_shape(ET.fromstring(SPEC_SERVICES_XML))


def test_a_control_character_stored_in_a_name_still_gives_a_well_formed_document(client: Client, org, category):
    """Names come from the administration (an import, an old row) and may hold characters
    XML 1.0 cannot carry even escaped; the document leaves them out instead of breaking."""
    category.name = "物业\x01管理\x1f\ufffe"
    category.save(update_fields=["name"])
    root = ET.fromstring(client.get("/open311/v2/services.xml").content)
    names = [s.findtext("service_name") for s in root.findall("service")]
    assert "物业管理" in names


def test_service_definition_lists_the_intake_forms_attributes(client: Client, org, category):
    definition = client.get(f"/open311/v2/services/{category.pk}.json", {"jurisdiction_id": org.code}).json()
    same_keys({**definition, "attributes": definition["attributes"][:1]}, SPEC_DEFINITION_JSON)
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["nature", "urgency", "title"]
    nature = definition["attributes"][0]
    assert {v["key"] for v in nature["values"]} >= {"complaint", "suggestion", "report"}
    assert [a["order"] for a in definition["attributes"]] == [1, 2, 3]
    root = ET.fromstring(client.get(f"/open311/v2/services/{category.pk}.xml").content)
    assert root.tag == "service_definition" and root.findtext("service_code") == str(category.pk)
    first = root.find("attributes/attribute")
    assert first is not None
    assert xml_shape(first) == xml_shape(ET.fromstring(SPEC_DEFINITION_XML).find("attributes/attribute"))
    assert root.find("attributes/attribute/values/value/key") is not None


def test_the_specifications_example_post_registers_a_case_like_any_other(client: Client, org, category, plain):
    posted = post_form(client, "json", SPEC_POST.format(key=plain, code=category.pk))
    assert posted.status_code == 201, posted.content
    [row] = posted.json()
    same_keys(row, SPEC_POSTED_JSON[0])
    case = Case.objects.get(number=row["service_request_id"])
    assert case.submitter_kind == ActorKind.SYSTEM and case.category == category and case.channel == "online"
    assert case.nature == "report" and case.title == "Sinkhole"
    assert "1234 5th street" in case.location and "37.76524078" in case.location
    assert "sinkhole" in case.text and "flickr.com" in case.text
    assert case.events.filter(kind="registered").exists()
    xml = post_form(client, "xml", SPEC_POST.format(key=plain, code=category.pk).replace("report", "suggestion"))
    assert xml.status_code == 201
    assert xml_shape(ET.fromstring(xml.content)) == xml_shape(ET.fromstring(SPEC_POSTED_XML))


def test_get_requests_public_filter_and_full_rows_with_a_key(client: Client, org, category, plain):
    post_form(client, "json", SPEC_POST.format(key=plain, code=category.pk))
    case = Case.objects.get()
    public = client.get("/open311/v2/requests.json").json()
    same_keys(public[0], SPEC_REQUESTS_JSON[0])
    assert public[0]["service_request_id"] == case.number and public[0]["status"] == "open"
    assert public[0]["description"] is None and public[0]["address"] is None  # nothing a person wrote
    assert W3C.match(public[0]["requested_datetime"]) and W3C.match(public[0]["updated_datetime"])
    full = client.get(f"/open311/v2/requests/{case.number}.json", {"api_key": plain}).json()
    assert full[0]["description"] == case.text and "1234 5th street" in full[0]["address"]
    xml = ET.fromstring(client.get("/open311/v2/requests.xml", {"status": "open"}).content)
    assert xml_shape(xml) == xml_shape(ET.fromstring(SPEC_REQUESTS_XML))
    assert xml.findtext("request/service_request_id") == case.number
    assert client.get("/open311/v2/requests.json", {"status": "closed"}).json() == []
    assert len(client.get("/open311/v2/requests.json", {"status": "open,closed", "service_code": ""}).json()) == 1
    week_ago = (timezone.now() - timedelta(days=7)).isoformat(timespec="seconds")
    assert len(client.get("/open311/v2/requests.json", {"start_date": week_ago}).json()) == 1
    old = client.get("/open311/v2/requests.json", {"end_date": "2010-01-01T00:00:00Z"}).json()
    assert old == []  # the 90 days before the end date
    missing = client.get("/open311/v2/requests/20000101-00001.xml")
    assert missing.status_code == 404 and ET.fromstring(missing.content).tag == "errors"


def test_deferred_requests_answer_a_token_then_the_number(
    client: Client, org, category, plain, settings, django_capture_on_commit_callbacks
):
    settings.HUIYIN_OPEN311_DEFERRED = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    services = client.get("/open311/v2/services.json").json()
    assert {s["type"] for s in services} == {"batch"}
    with django_capture_on_commit_callbacks(execute=False) as queued:
        posted = post_form(client, "json", SPEC_POST.format(key=plain, code=category.pk))
    assert posted.status_code == 201, posted.content
    [row] = posted.json()
    assert set(row) == {"token", "service_notice", "account_id"}  # no service_request_id with a token
    assert not Case.objects.exists() and len(queued) == 1
    submission = Open311Submission.objects.get()
    with connection.cursor() as cursor:  # the name and phone wait encrypted
        cursor.execute("SELECT payload FROM api_open311submission")
        assert "smith" not in cursor.fetchone()[0]
    pending = client.get(f"/open311/v2/tokens/{row['token']}.json").json()
    assert pending == [{"service_request_id": None, "token": row["token"]}]
    queued[0]()  # the task queue's turn: open311_register_task
    open311.register_submission(submission.pk)  # run twice: registers once
    case = Case.objects.get()
    assert case.submitter_kind == ActorKind.SYSTEM and case.nature == "report"
    done = client.get(f"/open311/v2/tokens/{row['token']}.json").json()
    same_keys(done[0], SPEC_TOKEN_JSON[0])
    assert done == [{"service_request_id": case.number, "token": row["token"]}]
    xml = ET.fromstring(client.get(f"/open311/v2/tokens/{row['token']}.xml").content)
    assert xml_shape(xml) == xml_shape(ET.fromstring(SPEC_TOKEN_XML))
    submission.refresh_from_db()
    assert submission.payload == "" and submission.case == case  # the personal data erased once registered
    assert client.get("/open311/v2/tokens/nothing.json").status_code == 404


def test_errors_are_the_specifications_array(client: Client, org, category, plain):
    no_key = client.post("/open311/v2/requests.json", {"service_code": str(category.pk), "description": "x"})
    assert no_key.status_code == 403
    assert set(no_key.json()[0]) == {"code", "description"} and no_key.json()[0]["code"] == 403
    bad = client.post(
        "/open311/v2/requests.xml",
        {"api_key": plain, "service_code": str(category.pk), "address_string": "幸福路", "description": ""},
    )
    assert bad.status_code == 400
    root = ET.fromstring(bad.content)
    assert xml_shape(root) == xml_shape(ET.fromstring(SPEC_ERRORS_XML)) and root.findtext("error/description")
    base = {"api_key": plain, "service_code": str(category.pk), "description": "路灯不亮", "address_string": "幸福路"}
    for extra, status in (
        ({"address_string": ""}, 400),  # no location at all
        ({"lat": "31.2"}, 400),  # lat without long
        ({"lat": "north", "long": "east"}, 400),
        ({"service_code": "99999"}, 404),
        ({"service_code": ""}, 400),
        ({"attribute[colour]": "red"}, 400),
        ({"attribute[nature]": "poem"}, 400),
        ({"attribute[nature][]": ["report", "suggestion"]}, 400),
        ({"description": "长" * 4001}, 400),
        # Refused, never cut: a shortened address or number would reach someone else.
        ({"email": "li.na@" + "mail." * 23 + "example.org"}, 400),  # cut at 120: another domain
        ({"phone": "1381234567" + "8" * 30}, 400),
        ({"address_string": "幸福路" * 60}, 400),
        ({"first_name": "娜" * 31}, 400),
        ({"attribute[title]": "标题" * 61}, 400),
        ({"jurisdiction_id": "elsewhere"}, 404),
    ):
        response = client.post("/open311/v2/requests.json", {**base, **extra})
        assert response.status_code == status, (extra, response.content[:300])
        assert set(response.json()[0]) == {"code", "description"}
    for params in ({"start_date": "yesterday"}, {"start_date": "2010-01-01T00:00:00"}, {"status": "pending"}):
        assert client.get("/open311/v2/requests.json", params).status_code == 400, params
    span = {"start_date": "2010-01-01T00:00:00Z", "end_date": "2010-06-01T00:00:00Z"}
    assert client.get("/open311/v2/requests.json", span).status_code == 400  # more than 90 days
    assert client.get("/open311/v2/services/abc.json").status_code == 404
    assert client.get("/open311/v2/nothing.xml").status_code == 404
    assert client.get("/open311/v2/nothing.xml")["Content-Type"].startswith("text/xml")
    assert not Case.objects.exists()


def test_an_independent_client_library_reads_a_live_server(live_server, org, category, plain):
    """``georeport`` (PyPI), a GeoReport v2 client written against the specification, in both formats."""
    from georeport import GeoReport  # noqa: PLC0415 - a test-only dependency, imported where it is used

    Client().post(
        "/open311/v2/requests.json",
        SPEC_POST.format(key=plain, code=category.pk),
        content_type="application/x-www-form-urlencoded",
    )
    case = Case.objects.get()
    for fmt in ("json", "xml"):
        api = GeoReport(f"{live_server.url}/open311/v2", jurisdiction=org.code, output_format=fmt)
        services = api.get_service_list()
        services = services if isinstance(services, list) else [services]
        assert str(category.pk) in [s["service_code"] for s in services]
        definition = api.get_service_definition(str(category.pk))
        attributes = definition["attributes"]
        attributes = attributes["attribute"] if fmt == "xml" else attributes
        assert [a["code"] for a in attributes] == ["nature", "urgency", "title"]
        found = api.get_service_requests(status="open")
        found = found if isinstance(found, list) else [found]
        assert [r["service_request_id"] for r in found] == [case.number]
        assert api.get_service_request(case.number)["status"] == "open"


def test_requests_are_rate_limited_per_address_without_a_key_and_per_key_with_one(
    client: Client, org, category, plain, settings
):
    """The public list can be read, not harvested: keyless requests count per address
    (``open311_ip``), keyed ones against the key's rate; over it, 429 in the error format."""
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "open311_ip": "3/600"}
    settings.HUIYIN_API_RATE = "2/min"
    for _ in range(3):
        assert client.get("/open311/v2/requests.json").status_code == 200
    over = client.get("/open311/v2/requests.xml")
    assert over.status_code == 429 and int(over["Retry-After"]) >= 1
    assert ET.fromstring(over.content).findtext("error/code") == "429"
    other = Client(REMOTE_ADDR="198.51.100.7")  # another address has its own count
    assert other.get("/open311/v2/requests.json").status_code == 200
    # A key counts against its own rate, not the address's.
    for _ in range(2):
        assert client.get("/open311/v2/requests.json", {"api_key": plain}).status_code == 200
    limited = client.get("/open311/v2/services.json", {"api_key": plain})
    assert limited.status_code == 429 and limited.json()[0]["code"] == 429
