"""Several people booking the last place of a period at the same moment: exactly one gets it,
the others are told it is full; the count never passes the capacity. Real transactions in
real threads (SQLite: IMMEDIATE transactions queue; PostgreSQL, with ``DATABASE_URL``: the
conditional update waits on the first booking's row lock and then finds the period full)."""

from __future__ import annotations

import threading
from datetime import time

import pytest
from django.db import connection

from huiyin.core.errors import ApplicationError
from huiyin.reception import services
from huiyin.reception.errors import ReceptionError
from huiyin.reception.models import Appointment, Slot, Weekday
from tests.reception.conftest import MONDAY, booking, key


def race(book, threads: int) -> tuple[list, list]:
    """Run ``book(n)`` in ``threads`` threads released together: (booked, refusals)."""
    booked, refused, errors = [], [], []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            booked.append(book(n))
        except ApplicationError as exc:
            refused.append(exc)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    return booked, refused


@pytest.mark.django_db(transaction=True)
def test_racing_for_the_last_place_books_exactly_one(org, room, admin, desk, frozen):
    services.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[Weekday.TUESDAY],
        starts=time(9),
        ends=time(10),
        slot_minutes=60,
        capacity=2,
        valid_from=MONDAY,
    )
    slot_key = key(room, 2026, 9, 29, 9)
    services.appointment_book(actor=desk, organization=org, data=booking(slot_key, name="先约者"))
    for round_ in range(3):  # the first round races for the last place; later ones for none at all
        booked, refused = race(
            lambda n, r=round_: services.appointment_book(
                actor=desk, organization=org, data=booking(slot_key, name=f"来访人{r}-{n}", phone=f"1390000{r}{n:03d}")
            ),
            threads=6,
        )
        assert len(booked) == (1 if round_ == 0 else 0)
        assert len(refused) == (5 if round_ == 0 else 6)
        assert {e.code for e in refused} == {ReceptionError.FULL} and {e.field for e in refused} == {"slot"}
    slot = Slot.objects.get(organization=org, key=slot_key)
    assert (slot.booked, slot.capacity) == (2, 2)
    assert Appointment.objects.filter(slot=slot).count() == 2


@pytest.mark.django_db(transaction=True)
def test_racing_first_bookings_of_a_fresh_period_share_its_places_exactly(org, room, admin, desk, frozen):
    """Nobody has booked the period yet: its row is created once, and its three places go to
    exactly three of eight people (the first booking creates the row the others then wait on)."""
    services.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[Weekday.WEDNESDAY],
        starts=time(9),
        ends=time(10),
        slot_minutes=60,
        capacity=3,
        valid_from=MONDAY,
    )
    slot_key = key(room, 2026, 9, 30, 9)
    booked, refused = race(
        lambda n: services.appointment_book(
            actor=desk, organization=org, data=booking(slot_key, name=f"来访人{n}", phone=f"1390001{n:04d}")
        ),
        threads=8,
    )
    assert (len(booked), len(refused)) == (3, 5)
    assert Slot.objects.filter(organization=org, key=slot_key).count() == 1
    assert Slot.objects.get(organization=org, key=slot_key).booked == 3
    assert len({a.code for a in booked}) == 3
