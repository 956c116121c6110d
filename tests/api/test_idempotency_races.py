"""Idempotency-Key under the conditions a retry exists for: the same POST twice at once,
and a retry after the server died in the middle of the first one."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection, connections

from huiyin.api.models import IdempotencyRecord
from huiyin.cases import services as case_services
from huiyin.cases.models import Case

from .test_api import BODY, client_for, make_key, system  # noqa: F401 - the fixture is used by name


@pytest.mark.django_db(transaction=True)
def test_the_same_post_at_once_registers_one_case_and_both_get_its_answer(org, system):  # noqa: F811
    _key, plain = make_key(org, system=system)
    threads, answers, errors = 4, [], []
    start = threading.Barrier(threads)

    def post():
        try:
            start.wait()
            answers.append(client_for(plain).post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="same-1"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=post) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert Case.objects.count() == 1
    # Every caller gets the one case's answer: none is told to come back later.
    assert sorted(a.status_code for a in answers) == [201] * threads
    assert {a.json()["number"] for a in answers} == {Case.objects.get().number}


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_the_server_died_mid_request_is_served(org, system):  # noqa: F811
    """The first request's process is killed (SIGKILL: no ``finally`` runs) while it
    registers the case: its retry with the same key registers the case once, at once —
    not a 409 "in progress" for the record's whole life (a day)."""
    _key, plain = make_key(org, system=system)
    connections.close_all()  # the child opens its own connection
    pid = os.fork()
    if pid == 0:  # the web worker that dies in the middle of the work
        try:
            real = case_services.case_register

            def dies(*args, **kwargs):
                real(*args, **kwargs)  # the case row is written ...
                os._exit(9)  # ... and the process is gone before the answer

            case_services.case_register = dies
            client_for(plain).post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
        finally:
            os._exit(1)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9
    retry = client_for(plain).post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    assert retry.status_code == 201, retry.json()
    assert Case.objects.count() == 1 and IdempotencyRecord.objects.get().status == 201
