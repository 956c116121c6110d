"""The satisfaction KPI counts the front office's feedback forms as the evaluation table does
(``frontoffice.selectors.feedback_counts``): the visitors' forms by the day entered, for the
organisation and by the host's department, and its definition says so."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from huiyin.frontoffice import services as fo
from huiyin.frontoffice.services import CheckIn
from huiyin.policy import kpi_text
from huiyin.policy.services import current_policy
from huiyin.reports import kpis
from tests.frontoffice.conftest import VALID_ID, build_company
from tests.policy.conftest import SH

pytestmark = pytest.mark.django_db

JUNE = (date(2026, 6, 1), date(2026, 6, 30))


def _form(people, host: str, overall: str, day: int) -> None:
    with time_machine.travel(datetime(2026, 6, day, 9, tzinfo=SH), tick=False) as clock:
        visitor = fo.visitor_expect(
            actor=people[host], expected_on=date(2026, 6, day), name="李建国", purpose="洽谈设备采购"
        )
        fo.visitor_check_in(
            actor=people["desk"], visitor_id=visitor.pk, data=CheckIn(id_type="resident_id", id_number=VALID_ID)
        )
        clock.move_to(datetime(2026, 6, day, 11, tzinfo=SH))
        fo.visitor_check_out(actor=people["desk"], visitor_id=visitor.pk)
        fo.visitor_feedback_record(actor=people["desk"], visitor_id=visitor.pk, overall=overall)


def test_the_satisfaction_kpi_counts_the_visitors_feedback_forms():
    org, depts, people = build_company()
    _form(people, "engineer", "satisfied", 10)  # tech
    _form(people, "engineer", "basically_satisfied", 11)  # tech
    _form(people, "requester", "dissatisfied", 12)  # sales
    _form(people, "requester", "satisfied", 30)
    [kpi] = [k for k in current_policy(org).preset().kpis if k.code == "satisfaction_rate"]

    # June 1–29: three forms, two satisfied (满意 + 基本满意); no callbacks at all.
    [value] = kpis.kpi_values([kpi], org.pk, date(2026, 6, 1), date(2026, 6, 29))
    assert (value.numerator, value.denominator, value.sample) == (2, 3, 3)
    assert value.display == "66.7%"
    [whole] = kpis.kpi_values([kpi], org.pk, *JUNE)  # the 30th's form counts on its day
    assert (whole.numerator, whole.denominator) == (3, 4)
    [tech] = kpis.kpi_values([kpi], org.pk, *JUNE, department_id=depts["tech"].pk)
    assert (tech.numerator, tech.denominator) == (2, 2)
    by_department = kpis.sums_by(org.pk, *JUNE, "department")
    assert by_department[str(depts["sales"].pk)]["callbacks_rated"] == 2
    assert by_department[str(depts["sales"].pk)]["callbacks_satisfied"] == 1
    assert str(depts["finance"].pk) not in by_department
    assert kpis.kpi_values([kpi], org.pk, date(2026, 7, 1), date(2026, 7, 31))[0].value is None
    assert "访客反馈表" in kpi_text.definition(kpi)
