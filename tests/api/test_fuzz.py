"""The API's contract, fuzzed: schemathesis runs the served OpenAPI document against a live
server on PostgreSQL — the schema's examples, its coverage cases (every enum value, every
boundary, every wrong type), generated requests and stateful sequences along the
document's links (a case created, then read, listed, acted on) — and fails on any 5xx, on
any response the document does not describe (status, content type, body schema) and on
any request the document forbids that the server accepts.

It runs in its own CI step (``.ci/run``: ``HUIYIN_FUZZ_TEST=1``, on the PostgreSQL that
step 2 started); elsewhere it skips, and with ``HUIYIN_FUZZ_TEST=1`` on another database
it fails. ``HUIYIN_FUZZ_EXAMPLES`` (default 12) bounds the generated requests per
operation and phase, ``HUIYIN_FUZZ_SEED`` fixes the run (default: a fixed seed, so a
failure is reproducible); the report is printed and written under the test's tmp dir.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from huiyin.api import services as api_services
from huiyin.cases.actions import all_specs
from huiyin.cases.models import Case
from huiyin.orgs.models import ExternalSystem
from huiyin.orgs.roles import Cap
from tests.conftest import intake

pytestmark = [pytest.mark.fuzz, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("HUIYIN_FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("HUIYIN_FUZZ_SEED", "20260418"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
)
# One action per input shape: text only, a reply (method, time), closing (satisfaction, a flag),
# a dispatch (ids, a list of ids, a time), a review request (a flag, a time), a review decision.
SHAPES = ("accept", "reply", "close", "dispatch", "request_review", "decide_review")
SYSTEM_CAPS = [
    Cap.REGISTER,
    Cap.DECIDE,
    Cap.DISPATCH,
    Cap.HANDLE,
    Cap.APPROVE,
    Cap.CLOSE,
    Cap.ARCHIVE,
    Cap.REOPEN,
    Cap.VIEW_ALL,
    Cap.VIEW_PII,
    Cap.REVIEW,
]


def _wanted() -> bool:
    return os.environ.get("HUIYIN_FUZZ_TEST", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(autouse=True)
def _only_in_the_fuzz_step():
    if not _wanted():
        pytest.skip("the contract fuzz runs in its own CI step (HUIYIN_FUZZ_TEST=1 on PostgreSQL, see .ci/run)")
    assert connection.vendor == "postgresql", (
        f"HUIYIN_FUZZ_TEST=1 needs PostgreSQL, the tests run on {connection.vendor}: set DATABASE_URL"
    )


def test_the_openapi_contract_holds_under_fuzzing(live_server, org, departments, category, clerk, settings, tmp_path):
    settings.HUIYIN_API_RATE = "100000/min"  # the fuzzer is one client sending as fast as it can
    system = ExternalSystem.objects.create(
        organization=org, code="fuzz", name="契约测试系统", kind=ExternalSystem.Kind.API, caps=SYSTEM_CAPS
    )
    _key, plain = api_services.key_create(
        organization=org,
        name="fuzz",
        scopes=["read", "register", "contact", "attach", "pii", "action:*"],
        action_names=[spec.name for spec in all_specs()],
        system=system,
    )
    from huiyin.cases.services import case_register  # noqa: PLC0415 - after the world's rows exist

    for i in range(3):  # something to list, read and act on before the first case is created
        case_register(actor=clerk, data=intake(text=f"第{i}号：小区路灯不亮。", category_id=category.pk))
    base = [
        str(Path(sys.executable).with_name("st")),
        "--no-color",
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--header",
        f"Authorization: Bearer {plain}",
        "--header",
        "Accept-Language: zh-hans",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
    ]
    runs = {
        # Every boundary and wrong type of every distinct input: the operations other than the
        # actions, and one action of each input shape (the other actions take the same fields).
        "coverage": [
            "--phases",
            "coverage",
            "--exclude-path-regex",
            "/actions/({})/$".format("|".join(sorted({s.name for s in all_specs()} - set(SHAPES)))),
        ],
        # Generated requests for every operation, then sequences along the document's links.
        "generated and stateful": ["--phases", "examples,fuzzing,stateful"],
    }
    failures = []
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    for name, extra in runs.items():
        report = tmp_path / name.replace(" ", "-")
        command = [*base, *extra, "--report", "junit", "--report-dir", str(report)]
        started = time.monotonic()
        done = subprocess.run(  # noqa: S603 - the venv's own schemathesis
            command, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path, env=env
        )
        output = done.stdout + done.stderr
        print(output)
        print(f"schemathesis {name}: exit {done.returncode} in {time.monotonic() - started:.1f} s")
        if done.returncode != 0:
            failures.append(f"--- {name} ---\n{output[-15000:]}")
    print(f"cases registered in all: {Case.objects.count()}")
    assert not failures, "\n".join(failures)
