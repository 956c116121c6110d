"""The organisation's administration screens (人员与部门, /administration/) and every
user's own password form (/account/password/).

Only the organisation's administrator (``permissions.may_manage_staff``) reaches the
administration pages (403 otherwise); an id of another organisation's staff member or
department is 404. Pages are never cached: a generated password is shown once, in the
answer to the POST that made it, and stored nowhere else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import whole_number
from huiyin.orgs.models import Department, Staff

from . import selectors, services
from .errors import AdministrationError
from .forms import (
    CategoryTagsForm,
    DepartmentEditForm,
    DepartmentForm,
    OwnPasswordForm,
    StaffCreateForm,
    StaffEditForm,
    StaffFilterForm,
)
from .middleware import SESSION_KEY
from .permissions import may_manage_staff

PAGE_SIZE = 50
ROLE_ALIAS = {"roles": "role"}  # the services' field name -> the form's checkboxes


def _require(request: AuthedHttpRequest) -> None:
    if not may_manage_staff(request.user):
        raise PermissionDenied(_("只有本单位的系统管理员可以管理人员和部门。"))


def _staff_or_404(request: AuthedHttpRequest, staff_id: int) -> Staff:
    staff = selectors.staff_get(request.user, staff_id)
    if staff is None:
        raise Http404(_("找不到该工作人员。"))
    return staff


def _department_or_404(request: AuthedHttpRequest, department_id: int) -> Department:
    department = selectors.department_get(request.user, department_id)
    if department is None:
        raise Http404(_("找不到该部门。"))
    return department


def _raise_if_gone(exc: ApplicationError) -> None:
    """A row that left the actor's organisation between the page and the service: 404."""
    if exc.code == AdministrationError.NOT_FOUND:
        raise Http404(str(exc.message)) from exc
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(str(exc.message)) from exc


def _page(request: AuthedHttpRequest, rows) -> Any:
    number = whole_number(request.GET.get("page"), maximum=100000) or 1
    return Paginator(rows, PAGE_SIZE).get_page(number)


def _query_without_page(request: AuthedHttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _staff_input(data: dict[str, Any]) -> services.StaffInput:
    return services.StaffInput(
        full_name=data["full_name"], department_id=data.get("department"), roles=tuple(data["role"])
    )


# --- staff ---------------------------------------------------------------------------------


@never_cache
@login_required
def staff_list(request: AuthedHttpRequest) -> HttpResponse:
    _require(request)
    departments = selectors.department_choices(request.user)
    form = StaffFilterForm(request.GET or None, departments=departments)
    page = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        department = None
        if data.get("department") is not None:
            department = selectors.department_get(request.user, data["department"])
        rows = selectors.staff_list(
            request.user,
            query=data.get("q") or "",
            department=department,
            status=data.get("status") or "active",
        )
        page = _page(request, rows)
    return render(
        request,
        "administration/staff_list.html",
        {"form": form, "page": page, "query": _query_without_page(request), "tab": "staff"},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def staff_create(request: AuthedHttpRequest) -> HttpResponse:
    _require(request)
    departments = selectors.department_choices(request.user)
    form = StaffCreateForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            staff, generated = services.staff_create(
                actor=request.user,
                username=data["username"],
                data=_staff_input(data),
                password=form.password(),
                must_change_password=bool(data.get("must_change_password")),
            )
        except ApplicationError as exc:
            _raise_if_gone(exc)
            put_errors(form, exc, ROLE_ALIAS)
        else:
            if generated is not None:
                return _password_once(request, staff, generated, created=True)
            messages.success(request, _("已创建账号 %(username)s。") % {"username": staff.username})
            return redirect("administration:staff_detail", staff.pk)
    return render(
        request,
        "administration/staff_create.html",
        {"form": form, "tab": "staff"},
        status=400 if form.errors else 200,
    )


def _password_once(request: AuthedHttpRequest, staff: Staff, password: str, *, created: bool) -> HttpResponse:
    return render(
        request,
        "administration/password_once.html",
        {"staff": staff, "password": password, "created": created, "tab": "staff"},
    )


def _detail(request: AuthedHttpRequest, staff: Staff, form: StaffEditForm | None = None, **extra: Any) -> dict:
    if form is None:
        form = StaffEditForm(
            initial={
                "full_name": staff.full_name,
                "department": staff.department_id,
                "role": list(staff.roles or []),
                "version": staff.version,
            },
            departments=selectors.department_choices(request.user),
        )
    return {
        "staff": staff,
        "form": form,
        "is_self": staff.pk == request.user.pk,
        "must_change_password": selectors.must_change_password(staff),
        "audit": selectors.labelled(selectors.audit_entries(request.user, staff=staff)[:100]),
        "tab": "staff",
        **extra,
    }


@never_cache
@login_required
def staff_detail(request: AuthedHttpRequest, staff_id: int) -> HttpResponse:
    """The account, its edit form (name, department, roles) and its administration record."""
    _require(request)
    staff = _staff_or_404(request, staff_id)
    if request.method == "POST":
        form = StaffEditForm(request.POST, departments=selectors.department_choices(request.user))
        if form.is_valid():
            try:
                services.staff_update(
                    actor=request.user,
                    staff_id=staff.pk,
                    data=_staff_input(form.cleaned_data),
                    expected_version=form.cleaned_data["version"],
                )
            except ApplicationError as exc:
                _raise_if_gone(exc)
                put_errors(form, exc, ROLE_ALIAS)
            else:
                messages.success(request, _("已保存 %(username)s 的修改。") % {"username": staff.username})
                return redirect("administration:staff_detail", staff.pk)
        return render(request, "administration/staff_detail.html", _detail(request, staff, form), status=400)
    return render(request, "administration/staff_detail.html", _detail(request, staff))


def _account_action(request: AuthedHttpRequest, staff_id: int, *, active: bool) -> HttpResponse:
    _require(request)
    staff = _staff_or_404(request, staff_id)
    try:
        services.staff_set_active(actor=request.user, staff_id=staff.pk, active=active)
    except ApplicationError as exc:
        _raise_if_gone(exc)
        context = _detail(request, staff, action_error=str(exc.message))
        return render(request, "administration/staff_detail.html", context, status=400)
    if active:
        messages.success(request, _("已启用账号 %(username)s，可以重新登录。") % {"username": staff.username})
    else:
        messages.success(
            request, _("已停用账号 %(username)s：不能再登录，其经办记录保留。") % {"username": staff.username}
        )
    return redirect("administration:staff_detail", staff.pk)


@never_cache
@login_required
@require_POST
def staff_deactivate(request: AuthedHttpRequest, staff_id: int) -> HttpResponse:
    return _account_action(request, staff_id, active=False)


@never_cache
@login_required
@require_POST
def staff_reactivate(request: AuthedHttpRequest, staff_id: int) -> HttpResponse:
    return _account_action(request, staff_id, active=True)


@never_cache
@login_required
@require_POST
def staff_reset_password(request: AuthedHttpRequest, staff_id: int) -> HttpResponse:
    _require(request)
    staff = _staff_or_404(request, staff_id)
    try:
        staff, password = services.staff_reset_password(actor=request.user, staff_id=staff.pk)
    except ApplicationError as exc:
        _raise_if_gone(exc)
        context = _detail(request, staff, action_error=str(exc.message))
        return render(request, "administration/staff_detail.html", context, status=400)
    return _password_once(request, staff, password, created=False)


# --- departments -------------------------------------------------------------------------------


def _department_input(data: dict[str, Any]) -> services.DepartmentInput:
    return services.DepartmentInput(
        name=data["name"],
        parent_id=data.get("parent"),
        handles_cases=bool(data.get("handles_cases")),
        sort_order=data.get("sort_order") or 0,
    )


@never_cache
@login_required
def department_list(request: AuthedHttpRequest) -> HttpResponse:
    """The department tree and the form to add one."""
    _require(request)
    departments = selectors.department_choices(request.user)
    form = DepartmentForm(request.POST or None, departments=departments, with_code=True)
    if request.method == "POST" and form.is_valid():
        try:
            department = services.department_create(
                actor=request.user, data=_department_input(form.cleaned_data), code=form.cleaned_data.get("code") or ""
            )
        except ApplicationError as exc:
            _raise_if_gone(exc)
            put_errors(form, exc)
        else:
            messages.success(request, _("已新建部门“%(name)s”。") % {"name": department.name})
            return redirect("administration:departments")
    return render(
        request,
        "administration/department_list.html",
        {"form": form, "rows": selectors.department_tree(request.user), "tab": "departments"},
        status=400 if form.errors else 200,
    )


def _department_context(request: AuthedHttpRequest, department: Department, form: DepartmentEditForm, **extra) -> dict:
    return {
        "department": department,
        "form": form,
        "audit": selectors.labelled(selectors.audit_entries(request.user, department=department)[:100]),
        "tab": "departments",
        **extra,
    }


@never_cache
@login_required
def department_detail(request: AuthedHttpRequest, department_id: int) -> HttpResponse:
    _require(request)
    department = _department_or_404(request, department_id)
    choices = [c for c in selectors.department_choices(request.user) if c[0] != department.pk]
    if request.method == "POST":
        form = DepartmentEditForm(request.POST, departments=choices)
        if form.is_valid():
            try:
                services.department_update(
                    actor=request.user,
                    department_id=department.pk,
                    data=_department_input(form.cleaned_data),
                    expected_version=form.cleaned_data["version"],
                )
            except ApplicationError as exc:
                _raise_if_gone(exc)
                put_errors(form, exc)
            else:
                messages.success(request, _("已保存部门“%(name)s”。") % {"name": form.cleaned_data["name"]})
                return redirect("administration:department_detail", department.pk)
        return render(
            request, "administration/department_detail.html", _department_context(request, department, form), status=400
        )
    form = _department_form(department, choices)
    return render(request, "administration/department_detail.html", _department_context(request, department, form))


def _department_form(department: Department, choices: list[tuple[int, str]]) -> DepartmentEditForm:
    return DepartmentEditForm(
        initial={
            "name": department.name,
            "parent": department.parent_id,
            "handles_cases": department.handles_cases,
            "sort_order": department.sort_order,
            "version": department.version,
        },
        departments=choices,
    )


@never_cache
@login_required
@require_POST
def department_delete(request: AuthedHttpRequest, department_id: int) -> HttpResponse:
    _require(request)
    department = _department_or_404(request, department_id)
    try:
        name = services.department_delete(actor=request.user, department_id=department.pk)
    except ApplicationError as exc:
        _raise_if_gone(exc)
        choices = [c for c in selectors.department_choices(request.user) if c[0] != department.pk]
        form = _department_form(department, choices)
        context = _department_context(request, department, form, action_error=str(exc.message))
        return render(request, "administration/department_detail.html", context, status=400)
    messages.success(request, _("已删除部门“%(name)s”。") % {"name": name})
    return redirect("administration:departments")


# --- the record -----------------------------------------------------------------------------------


def _category_page(request: AuthedHttpRequest, *, failed: int | None = None, form: CategoryTagsForm | None = None):
    return render(
        request,
        "administration/category_list.html",
        {
            "rows": selectors.category_tree(request.user),
            "rules": selectors.category_rules(request.user),
            "failed": failed,
            "failed_form": form,
            "tab": "categories",
        },
        status=400 if form is not None else 200,
    )


@never_cache
@login_required
def category_list(request: AuthedHttpRequest) -> HttpResponse:
    """The category tree with each category's tags, and the running policy's rules keyed
    on a category with the categories each finds."""
    _require(request)
    return _category_page(request)


@never_cache
@login_required
@require_POST
def category_tags(request: AuthedHttpRequest, category_id: int) -> HttpResponse:
    _require(request)
    form = CategoryTagsForm(request.POST)
    if form.is_valid():
        try:
            category = services.category_set_tags(
                actor=request.user,
                category_id=category_id,
                tags=form.cleaned_data["tags"],
                expected_version=form.cleaned_data["version"],
            )
        except ApplicationError as exc:
            _raise_if_gone(exc)
            put_errors(form, exc)
        else:
            messages.success(request, _("已保存分类“%(name)s”的标签。") % {"name": category.full_name or category.name})
            return redirect("administration:categories")
    return _category_page(request, failed=category_id, form=form)


@never_cache
@login_required
def audit_log(request: AuthedHttpRequest) -> HttpResponse:
    _require(request)
    page = _page(request, selectors.audit_entries(request.user))
    return render(
        request,
        "administration/audit.html",
        {"page": page, "rows": selectors.labelled(page.object_list), "tab": "audit"},
    )


# --- one's own password -------------------------------------------------------------------------


@never_cache
@login_required
def own_password(request: AuthedHttpRequest) -> HttpResponse:
    """Anyone signed in changes their own password; required first when an administrator set it."""
    form = OwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change_own(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # stay signed in here; other sessions end
            request.session.pop(SESSION_KEY, None)
            messages.success(request, _("密码已修改。"))
            return redirect("cases:desk")
    return render(
        request,
        "administration/own_password.html",
        {"form": form, "required": bool(request.session.get(SESSION_KEY))},
        status=400 if form.errors else 200,
    )
