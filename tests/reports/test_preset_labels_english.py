"""The dashboard in English: the KPIs the preset defines read in English (label, numerator,
denominator, note), in Chinese they stay as the preset writes them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.reports.test_kpis import march  # noqa: F401 - the hand-computed March

URL = reverse("reports:dashboard") + "?start=2026-03-01&end=2026-03-31"


def _kpi_row(html: str, code: str) -> str:
    row = html[html.index(f'data-kpi="{code}"') :]
    return row[: row.index("</tr>")]


@pytest.mark.django_db
def test_the_dashboards_kpis_read_in_the_readers_language(client, march, analyst):  # noqa: F811
    client.force_login(analyst)
    client.cookies["django_language"] = "en"
    html = client.get(URL).content.decode()
    row = _kpi_row(html, "satisfaction_rate")
    assert "Owner satisfaction rate" in row
    assert 'title="Satisfied or mostly satisfied at the callback"' in row  # the numerator
    assert "业主满意率" not in html and "回访为满意、基本满意的件数" not in html
    closure = _kpi_row(html, "closure_on_time_rate")
    assert "On-time closure rate" in closure and "Closure deadlines met" in closure
    assert "按时办结率" not in closure and "在办结时限内完成的件次" not in closure

    client.cookies["django_language"] = "zh-hans"
    html = client.get(URL).content.decode()
    row = _kpi_row(html, "satisfaction_rate")
    assert "业主满意率" in row and 'title="回访为满意、基本满意的件数"' in row
    assert "Owner satisfaction rate" not in html
