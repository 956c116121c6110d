"""The navigation bar offers each section by the owning app's predicate (huiyin.navigation)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from huiyin.navigation import navigation


def nav_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return navigation(request).get("nav")


def test_no_navigation_without_a_signed_in_user():
    assert nav_for(AnonymousUser()) is None


@pytest.mark.django_db  # the staff fixtures are looked up by name (request.getfixturevalue)
@pytest.mark.parametrize(
    ("who", "shown"),
    [
        (
            "clerk",
            {"callbacks", "surveys", "daily_review", "intake", "parked_mail", "my_contact", "reception", "visitors"},
        ),
        ("handler", {"my_contact", "visitors", "guest_reception"}),
        (
            "head",
            {
                "supervision_board",
                "callbacks",
                "evaluation",
                "my_contact",
                "dashboard",
                "hot_issues",
                "visitors",
                "guest_reception",
            },
        ),
        (
            "analyst",
            {
                "supervision_board",
                "surveys",
                "evaluation",
                "my_contact",
                "dashboard",
                "hot_issues",
                "reports",
                "visitors",
            },
        ),
        (
            "leader",
            {
                "supervision_board",
                "callbacks",
                "surveys",
                "evaluation",
                "daily_review",
                "intake",
                "parked_mail",
                "my_contact",
                "dashboard",
                "hot_issues",
                "reports",
                "reception",
                "visitors",
                "guest_reception",
            },
        ),
    ],
)
def test_sections_by_role(request, who, shown):
    nav = nav_for(request.getfixturevalue(who))
    # Every staff member searches the knowledge base and its past answers (F07).
    assert {name for name, on in vars(nav).items() if on} == shown | {"knowledge"}


def test_the_bar_shows_the_sections(client, head):
    client.force_login(head)
    page = client.get(reverse("cases:desk")).content.decode()
    assert "督办看板" in page and "考评" in page and "统计分析" in page
    assert "来电登记" not in page and "时限政策" not in page
