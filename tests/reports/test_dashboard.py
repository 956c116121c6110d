"""The dashboard: KPIs with definition, numerator and denominator for the period, the
previous one and the same one last year; volume charts whose every point opens the
ledger list behind it; the league table with sample sizes; overdue and warned now;
department heads see their own department."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from huiyin.reports import rollups
from huiyin.reports.selectors import Period
from tests.reports.conftest import at
from tests.reports.test_kpis import march  # noqa: F401 - the hand-computed March

URL = reverse("reports:dashboard")
MARCH = "?start=2026-03-01&end=2026-03-31"


def _charts(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="charts-data" type="application/json">') + len(
        '<script id="charts-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_periods():
    month = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert month.previous() == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert month.last_year() == Period(date(2025, 3, 1), date(2025, 3, 31))
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))
    assert quarter.previous() == Period(date(2025, 10, 1), date(2025, 12, 31))
    leap = Period(date(2024, 2, 1), date(2024, 2, 29))
    assert leap.last_year() == Period(date(2023, 2, 1), date(2023, 2, 28))
    assert Period(date(2026, 3, 10), date(2026, 3, 16)).previous() == Period(date(2026, 3, 3), date(2026, 3, 9))


@pytest.mark.django_db
def test_analyst_sees_kpis_charts_and_league(client, march, analyst, departments):  # noqa: F811
    client.force_login(analyst)
    response = client.get(URL + MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    # Each KPI with its definition, numerator and denominator.
    assert 'data-kpi="closure_on_time_rate"' in html
    assert "在办结时限内完成的件次" in html and "按时限了结日期计" in html
    row = html[html.index('data-kpi="satisfaction_rate"') :]
    assert "83.3%" in row[: row.index("</tr>")] and ">5</span> / <span" in row[: row.index("</tr>")]
    charts = _charts(response)
    channel = charts["volume"]["channel"]
    assert len(channel["x"]) == 31 and channel["x"][0] == "03-01"
    phone = next(s for s in channel["series"] if s["name"] == "电话")
    assert sum(phone["data"]) == 9
    day = channel["x"].index("03-02")
    url = phone["urls"][day]
    query = parse_qs(urlsplit(url).query)
    assert query == {"date_from": ["2026-03-02"], "date_to": ["2026-03-02"], "channel": ["phone"]}
    # The drill-down opens the ledger with exactly the cases behind the bar.
    ledger = client.get(url)
    assert ledger.status_code == 200
    assert "20260302-00001" in ledger.content.decode()
    # Department chart and league: traffic has c9 alone.
    department = charts["volume"]["department"]
    names = {s["name"] for s in department["series"]}
    assert {"市容环境科", "交通管理科"} <= names
    assert 'data-department="交通管理科"' in html
    # The top places: 幸福路 (the fixture's location).
    assert charts["top"]["place"][0]["name"] == "幸福路"
    assert parse_qs(urlsplit(charts["top"]["place"][0]["url"]).query)["q"] == ["幸福路"]


@pytest.mark.django_db
def test_league_ranks_only_with_enough_sample(client, march, analyst):  # noqa: F811
    client.force_login(analyst)
    html = client.get(URL + MARCH).content.decode()
    league = html[html.index('id="league"') :]
    # min_sample is 10 in the property preset: no department has 10 timed cases in March.
    assert 'data-rank=""' in league and "样本不足" in league
    assert 'data-rank="1"' not in league


@pytest.mark.django_db
def test_department_head_sees_own_department(client, march, head, departments):  # noqa: F811
    client.force_login(head)
    response = client.get(URL + MARCH)
    assert response.status_code == 200
    charts = _charts(response)
    names = {s["name"] for s in charts["volume"]["department"]["series"]}
    assert names == {"市容环境科"}
    html = response.content.decode()
    assert 'data-department="交通管理科"' not in html
    url = charts["volume"]["channel"]["series"][0]["urls"][1]
    assert parse_qs(urlsplit(url).query)["department"] == [str(departments["city"].pk)]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["clerk", "handler", "officer"])
def test_others_refused(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
def test_bad_period_is_400(client, analyst):
    client.force_login(analyst)
    assert client.get(URL + "?start=2026-03-31&end=2026-03-01").status_code == 400
    assert client.get(URL + "?start=2026-02-30&end=2026-03-01").status_code == 400
    assert client.get(URL + "?start=1990-01-01&end=2026-03-01").status_code == 400


@pytest.mark.django_db
def test_overdue_and_warned_now(client, property_rules, drive, departments, handler, analyst):
    city = departments["city"]
    case = drive.register(at(2026, 3, 2, 9))
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=city.pk, handler_id=handler.pk)
    drive.sweep(at(2026, 3, 20, 9))
    rollups.catch_up()
    client.force_login(analyst)
    with drive.at(at(2026, 3, 20, 10)):
        html = client.get(URL + MARCH).content.decode()
    assert 'id="overdue-count">3<' in html  # the same-day investigation, the reply and the overall clock
    assert case.number in html[html.index('id="overdue-list"') :]


@pytest.mark.django_db
def test_empty_organisation(client, analyst):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    assert "本单位的政策未定义指标" in response.content.decode()
    assert _charts(response)["volume"]["channel"]["series"] == []


def test_the_league_is_ranked_by_the_first_on_time_rate_with_a_sample(monkeypatch):
    """The city hotline times no overall closure, so its 按时办结率 never has a sample:
    ranked by it, no department of the demo was ever ranked. The league falls back to
    the next on-time rate (按时答复率) and says which one it ranks by."""
    from huiyin.policy.presets import load_preset
    from huiyin.policy.services import presets_dir
    from huiyin.reports import selectors

    hotline = load_preset(presets_dir() / "city_hotline.yaml")
    sums = {
        "1": {"received": 14, "reply_on_time": 11, "reply_done": 12, "reply_overdue": 0},
        "2": {"received": 20, "reply_on_time": 15, "reply_done": 18, "reply_overdue": 2},
        "3": {"received": 3, "reply_on_time": 3, "reply_done": 3, "reply_overdue": 0},
    }
    monkeypatch.setattr(selectors.kpi_math, "sums_by", lambda *a, **k: sums)
    monkeypatch.setattr(selectors, "dimension_labels", lambda org, axis, keys: {k: f"部门{k}" for k in keys})
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    columns, rows, ranked_by = selectors.league(hotline.kpis, hotline.evaluation, 1, period)
    assert ranked_by == "reply_on_time_rate" and ("reply_on_time_rate", "按时答复率") in columns
    assert [(r.name, r.rank) for r in rows] == [("部门1", 1), ("部门2", 2), ("部门3", None)]  # 11/12, 15/20, 3 < 10


@pytest.mark.django_db
def test_the_undispatched_row_is_not_called_a_sample_too_small(client, analyst, monkeypatch):
    """The cases no department leads are listed, never ranked — not for want of a sample
    (81 of them said 样本不足 in the demo)."""
    from huiyin.reports import selectors

    sums = {"0": {"received": 81, "reply_on_time": 53, "reply_done": 53, "reply_overdue": 0}}
    monkeypatch.setattr(selectors.kpi_math, "sums_by", lambda *a, **k: sums)
    client.force_login(analyst)
    html = client.get(URL + MARCH).content.decode()
    league = html[html.index('id="league"') :]
    row = league[league.index("<tr data-department=") :]
    row = row[: row.index("</tr>")]
    assert 'data-rank=""' in row and "样本不足" not in row and "未派遣的件不属于任何部门" in row
