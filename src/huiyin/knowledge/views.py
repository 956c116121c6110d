"""The knowledge base's pages: search (entries and past answers), one entry, the editor."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huiyin.core.errors import ApplicationError, http_status
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest

from . import selectors, services
from .forms import EntryEditForm, EntryForm, SearchForm
from .permissions import may_edit_knowledge, may_read_knowledge


def _may(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _search(request: AuthedHttpRequest) -> tuple[SearchForm, str, int | None]:
    form = SearchForm(request.GET or None, organization_id=request.user.org_id)
    if form.is_bound and form.is_valid():
        category = form.cleaned_data["category"]
        return form, form.cleaned_data["q"].strip(), category.pk if category else None
    return form, "", None


@login_required
def index(request: AuthedHttpRequest) -> HttpResponse:
    """Entries by keyword and category; editors see the inactive ones too."""
    _may(may_read_knowledge(request.user))
    form, keyword, category_id = _search(request)
    editor = may_edit_knowledge(request.user)
    found = list(
        selectors.entries(actor=request.user, keyword=keyword, category_id=category_id, include_inactive=editor)[
            : selectors.RESULTS_MAX
        ]
    )
    return render(
        request,
        "knowledge/index.html",
        {"form": form, "entries": found, "keyword": keyword, "editor": editor, "tab": "entries"},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
def answers(request: AuthedHttpRequest) -> HttpResponse:
    """Past answers: replies of finished cases in a category, masked."""
    _may(may_read_knowledge(request.user))
    form, keyword, category_id = _search(request)
    asked = bool(keyword or category_id)
    found = selectors.past_answers(actor=request.user, category_id=category_id, keyword=keyword) if asked else []
    return render(
        request,
        "knowledge/answers.html",
        {"form": form, "answers": found, "asked": asked, "editor": may_edit_knowledge(request.user), "tab": "answers"},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
def entry_detail(request: AuthedHttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.entry_get(actor=request.user, entry_id=entry_id)
    return render(request, "knowledge/entry.html", {"entry": entry, "editor": may_edit_knowledge(request.user)})


def _values(form: EntryForm) -> dict[str, Any]:
    d = form.cleaned_data
    return {
        "title": d["title"],
        "body": d["body"],
        "source": d["source"],
        "category_ids": [c.pk for c in d["categories"]],
        "active": d["active"],
    }


def _editor_page(request: AuthedHttpRequest, form: EntryForm, entry=None, status: int = 200) -> HttpResponse:
    return render(request, "knowledge/edit.html", {"form": form, "entry": entry}, status=status)


@login_required
def entry_new(request: AuthedHttpRequest) -> HttpResponse:
    _may(may_edit_knowledge(request.user))
    form = EntryForm(request.POST or None, organization_id=request.user.org_id)
    if request.method != "POST":
        return _editor_page(request, form)
    if not form.is_valid():
        return _editor_page(request, form, status=400)
    try:
        entry = services.entry_create(actor=request.user, **_values(form))
    except ApplicationError as exc:
        put_errors(form, exc)
        return _editor_page(request, form, status=http_status(exc))
    messages.success(request, _("已保存知识条目：%(title)s") % {"title": entry.title})
    return redirect("knowledge:entry", entry_id=entry.pk)


@login_required
def entry_edit(request: AuthedHttpRequest, entry_id: int) -> HttpResponse:
    _may(may_edit_knowledge(request.user))
    entry = selectors.entry_get(actor=request.user, entry_id=entry_id)
    if request.method != "POST":
        form = EntryEditForm(
            initial={
                "title": entry.title,
                "body": entry.body,
                "source": entry.source,
                "categories": list(entry.categories.all()),
                "active": entry.active,
                "version": entry.version,
            },
            organization_id=request.user.org_id,
        )
        return _editor_page(request, form, entry)
    form = EntryEditForm(request.POST, organization_id=request.user.org_id)
    if not form.is_valid():
        return _editor_page(request, form, entry, status=400)
    try:
        services.entry_update(
            actor=request.user, entry_id=entry.pk, expected_version=form.cleaned_data["version"], **_values(form)
        )
    except ApplicationError as exc:
        put_errors(form, exc)
        return _editor_page(request, form, entry, status=http_status(exc))
    messages.success(request, _("已保存知识条目：%(title)s") % {"title": form.cleaned_data["title"]})
    return redirect("knowledge:entry", entry_id=entry.pk)
