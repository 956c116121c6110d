"""The dashboard and the periodic reports: parse, call one selector or service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from huiyin.core.http import AuthedHttpRequest

from . import selectors
from .forms import PeriodForm, period_presets


@login_required
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    selectors.scope_for(request.user)  # 403 before anything else
    form = PeriodForm(request.GET, today=timezone.localdate())
    board = None
    if form.is_valid():
        board = selectors.dashboard(actor=request.user, period=form.period())
    charts = {}
    if board is not None:
        charts = {"volume": board.charts, "top": board.top}
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "board": board,
            "charts": charts,
            "presets": period_presets(timezone.localdate()),
        },
        status=200 if board else 400,
    )
