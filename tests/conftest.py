"""Shared fixtures: an organisation with departments and one staff member per role,
set up through the same models the services use."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests check rules, not speed: a loaded CI machine must not fail them on time.
hypothesis_settings.register_profile("huiyin", deadline=None)
hypothesis_settings.load_profile("huiyin")

from huiyin.cases.models import Category
from huiyin.cases.services import IntakeInput, PartyInput, case_register
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's, except that the test database is a clone of one migrated template
    (tests/dbtemplate.py). With --nomigrations or --reuse-db, pytest-django's own way."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    from tests import dbtemplate

    verbosity = request.config.option.verbose
    if not django_db_use_migrations:
        _disable_migrations()
    aliases, serialized = _get_databases_for_setup(request.session.items)
    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        if django_db_use_migrations and not django_db_keepdb and "default" in aliases:
            keepdb = dbtemplate.clone_from_template("default")  # a clone is kept: nothing left to migrate
        db_cfg = setup_databases(
            verbosity=verbosity, interactive=False, aliases=aliases, serialized_aliases=serialized, keepdb=keepdb
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=verbosity, keepdb=False)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Argon2 costs ~0.16 s a hash and the suite creates thousands of staff: tests hash
    with MD5, as Django's testing docs advise. Production keeps Argon2 (see
    tests/orgs/test_password_hashing.py)."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request in English leaves the thread's language active: every test starts in Chinese."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")


@pytest.fixture(autouse=True)
def _own_cache_keys(settings, tmp_path):
    """Every test its own cache: a key prefix (the portal's rate limits and used challenges,
    kept in the cache — Redis in CI — never carry over from one test to the next) and, without
    Redis, a directory of its own (``huiyin.core.cache``: files; one directory for the run would
    grow with every test's keys, and each write lists it)."""
    settings.CACHES = {
        alias: {
            **conf,
            "KEY_PREFIX": f"t{uuid.uuid4().hex[:12]}",
            **({"LOCATION": str(tmp_path / "cache")} if conf["BACKEND"].endswith("SharedFileCache") else {}),
        }
        for alias, conf in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path


@pytest.fixture
def org(db) -> Organization:
    return Organization.objects.create(code="hotline", name="示范市12345热线中心")


@pytest.fixture
def departments(org) -> dict[str, Department]:
    names = {"city": "市容环境科", "housing": "住房保障科", "traffic": "交通管理科"}
    return {code: Department.objects.create(organization=org, code=code, name=name) for code, name in names.items()}


@pytest.fixture
def hospital_offices(org) -> dict[str, Department]:
    """The hospital's receiving offices, by the department codes presets/hospital.yaml names
    (intake.complainant_kinds): 门诊部 receives outpatients' complaints, 医务科 inpatients'."""
    names = {"outpatient_dept": "门诊部", "medical_affairs": "医务科"}
    return {code: Department.objects.create(organization=org, code=code, name=name) for code, name in names.items()}


@pytest.fixture
def category(org) -> Category:
    root = Category.objects.create(organization=org, name="城乡建设", full_name="城乡建设")
    root.path = f"/{root.pk}/"
    root.save()
    leaf = Category.objects.create(organization=org, parent=root, name="物业管理", full_name="城乡建设/物业管理")
    leaf.path = f"{root.path}{leaf.pk}/"
    leaf.save()
    return leaf


def make_staff(org, username: str, roles: list[str], department=None) -> Staff:
    return Staff.objects.create_user(
        username=username,
        password="pw-" + username,
        organization=org,
        department=department,
        roles=roles,
        full_name=username,
    )


@pytest.fixture
def clerk(org) -> Staff:
    return make_staff(org, "clerk", [Role.INTAKE_CLERK])


@pytest.fixture
def officer(org) -> Staff:
    return make_staff(org, "officer", [Role.CALLBACK_OFFICER])


@pytest.fixture
def supervisor(org) -> Staff:
    return make_staff(org, "supervisor", [Role.SUPERVISOR])


@pytest.fixture
def leader(org) -> Staff:
    return make_staff(org, "leader", [Role.LEADER])


@pytest.fixture
def head(org, departments) -> Staff:
    return make_staff(org, "head", [Role.DEPT_HEAD], departments["city"])


@pytest.fixture
def handler(org, departments) -> Staff:
    return make_staff(org, "handler", [Role.HANDLER], departments["city"])


@pytest.fixture
def other_handler(org, departments) -> Staff:
    return make_staff(org, "other", [Role.HANDLER], departments["traffic"])


@pytest.fixture
def analyst(org) -> Staff:
    return make_staff(org, "analyst", [Role.ANALYST])


def intake(**overrides) -> IntakeInput:
    values = dict(
        channel="phone",
        nature="complaint",
        title="",
        text="楼上漏水严重，天花板已经发霉。",
        party=PartyInput(name="张伟", phone="13812345678"),
        location="幸福路12号",
        # Each test registration is its own matter: the same caller's second case on a day
        # is refused under the hotline's same-day repeat rule unless confirmed as new
        # (tests/policy/rules/test_city_hotline_rules_intake.py covers the rule itself).
        new_matter=True,
    )
    values.update(overrides)
    return IntakeInput(**values)


@pytest.fixture
def register(clerk):
    def _register(actor=None, **overrides):
        case, _code = case_register(actor=actor or clerk, data=intake(**overrides))
        return case

    return _register


# --- the authorisation matrix's figures (tests/authz/test_matrix.py), summed across xdist workers ----

_AUTHZ_TOTALS: dict[str, int] = {}


def _authz_stats() -> dict[str, int]:
    import sys

    module = sys.modules.get("tests.authz.test_matrix")
    return dict(module.STATS) if module else {}


# CI's second run (PostgreSQL + Redis, HUIYIN_DATABASE_TESTS_ONLY=1) runs only the tests that
# can see a difference: those that reach the database or name a backing service. A test
# without database access (pytest-django refuses it one) gives the same result on either
# database, and the first run (SQLite, `make test`) ran it already. Nor do those marked
# `one_engine`: what a whole demo tells, checked on SQLite (every preset's demo is still
# built on PostgreSQL, tests/demo/test_generator.py), and tests on a SQLite file of their own.
_DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
)
_SERVICE_MARKERS = ("django_db", "postgres", "redis", "faults", "fuzz")


def _reaches_a_backing_service(item) -> bool:
    if item.get_closest_marker("one_engine"):  # the same result whatever the test database's engine
        return False
    return any(item.get_closest_marker(m) for m in _SERVICE_MARKERS) or bool(
        _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config, items):
    # The few long tests first (marked `heavy`): xdist hands tests out in this order, and a
    # minute-long test handed out last keeps one worker busy after the other has finished.
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)
    if os.environ.get("HUIYIN_DATABASE_TESTS_ONLY", "").strip().lower() in ("", "0", "false", "no"):
        return
    kept, dropped = [], []
    for item in items:
        (kept if _reaches_a_backing_service(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker hands its figures to the controller
        workeroutput["authz_stats"] = _authz_stats()


@pytest.hookimpl(optionalhook=True)  # an xdist hook
def pytest_testnodedown(node, error):
    for key, value in getattr(node, "workeroutput", {}).get("authz_stats", {}).items():
        _AUTHZ_TOTALS[key] = _AUTHZ_TOTALS.get(key, 0) + value


def pytest_terminal_summary(terminalreporter):
    totals = _AUTHZ_TOTALS or _authz_stats()
    if totals.get("requests"):
        terminalreporter.write_line(
            "authorisation matrix: {} URL patterns, {} requests, {} refused, {} answered 5xx".format(
                totals.get("patterns", 0), totals.get("requests", 0), totals.get("refusals", 0), totals.get("5xx", 0)
            )
        )
