"""Writes for the organisation's administration: staff accounts and departments.

Every write checks ``permissions.may_manage_staff``, works only inside the actor's own
organisation (whose row it locks, so two administrators' changes are applied one after
the other and the last active administrator cannot be removed by a race), never sets
``is_superuser`` / ``is_staff`` nor another organisation, and appends an
:class:`~huiyin.administration.models.AuditEntry` in the same transaction. Passwords
are never recorded, logged or returned except a generated one, once, to the caller.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext as _

from huiyin.access.services import login_unlock
from huiyin.cases import categories
from huiyin.cases.models import Category
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.core.versions import bump, check_version
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role
from huiyin.policy.services import current_policy

from . import permissions
from .errors import AdministrationError
from .models import AuditAction, AuditEntry, PasswordChangeRequired

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@+_-]{1,39}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# No look-alikes (0/O, 1/l/I): a generated password is read off the screen and typed.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
# Roles whose work is their department's cases: they need a department.
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.DEPT_HEAD})


def _require(actor: Staff) -> None:
    if not permissions.may_manage_staff(actor):
        raise PermissionDeniedError(_("只有本单位的系统管理员可以管理人员和部门。"))


def _not_found(what: str) -> ApplicationError:
    return ApplicationError(what, code=AdministrationError.NOT_FOUND)


def _lock_organization(actor: Staff) -> Organization:
    """Lock the actor's organisation (administrators' writes run one after the other) and
    check the actor again as stored now: an administrator whom another just deactivated
    or demoted can no longer act on a stale request. With self lock-out refused, this
    keeps the invariant that the organisation has an active administrator."""
    org = Organization.objects.select_for_update().get(pk=actor.org_id)
    current = Staff.objects.filter(pk=actor.pk, organization=org).first()
    if current is None or not permissions.may_manage_staff(current):
        raise PermissionDeniedError(_("只有本单位的系统管理员可以管理人员和部门。"))
    return org


def _plain_text(value: str | None, field: str, label: str, *, limit: int, required: bool = True) -> str:
    """A one-line name: stripped, required, no longer than ``limit``, no control characters."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed({field: [_("%(label)s：请填写。") % {"label": label}]})
    if len(text) > limit:
        message = _("%(label)s：最多 %(max)d 个字符，当前 %(n)d 个。") % {"label": label, "max": limit, "n": len(text)}
        raise ValidationFailed({field: [message]})
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        raise ValidationFailed({field: [_("%(label)s：不能包含控制字符或换行。") % {"label": label}]})
    return text


def generate_password(user: Staff | None = None) -> str:
    """A random password such as ``Hk4p-x9Qm-T7cz``: 12 characters from 56 (about 70 bits),
    with upper case, lower case and digits, accepted by the configured validators."""
    for _attempt in range(50):
        candidate = "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))
        if not all(any(test(c) for c in candidate) for test in (str.isdigit, str.isupper, str.islower)):
            continue
        try:
            password_validation.validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate
    raise RuntimeError("no generated password passes the configured password validators")


def _check_password(password: str, user: Staff, field: str, label: str) -> None:
    """The configured validators (settings.AUTH_PASSWORD_VALIDATORS); each message is given the
    field's label. Their Chinese messages mostly begin with the subject 密码 ("密码太短，…"), which
    the label already names: "新密码：太短，…", not "新密码：密码太短，…"."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        messages = [
            _("%(label)s：%(problem)s") % {"label": label, "problem": m.removeprefix("密码")} for m in exc.messages
        ]
        raise ValidationFailed({field: messages}) from exc


def _audit(
    actor: Staff,
    action: str,
    *,
    staff: Staff | None = None,
    department: Department | None = None,
    changes: Iterable[dict[str, Any]] = (),
    organization_id: int | None = None,
) -> AuditEntry:
    if staff is not None:
        target = f"{staff.full_name}（{staff.username}）" if staff.full_name else staff.username
    elif department is not None:
        target = department.name
    else:
        target = ""
    return AuditEntry.objects.create(
        organization_id=organization_id or actor.org_id,
        actor=actor,
        action=action,
        staff=staff,
        department=department,
        target=target[:200],
        changes=list(changes),
    )


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"field": k, "old": before.get(k), "new": v} for k, v in after.items() if before.get(k) != v]


# --- staff ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffInput:
    """What an administrator sets on an account (the username only when creating it)."""

    full_name: str
    department_id: int | None
    roles: tuple[str, ...]


def _checked_staff(org: Organization, data: StaffInput) -> tuple[str, Department | None, list[str]]:
    errors: dict[str, list[str]] = {}
    full_name = ""
    try:
        full_name = _plain_text(data.full_name, "full_name", _("姓名"), limit=60)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    roles = [r for r in Role.values if r in set(data.roles)]  # table order, no duplicates
    unknown = [r for r in data.roles if r not in Role.values]
    if unknown:
        errors["roles"] = [_("角色：“%(role)s”不是有效的角色。") % {"role": unknown[0]}]
    elif not roles:
        errors["roles"] = [_("角色：请至少选择一个角色。")]
    department = None
    if data.department_id is not None:
        department = Department.objects.filter(organization=org, pk=data.department_id).first()
        if department is None:
            errors["department"] = [_("部门：请从本单位的部门中选择。")]
    if department is None and "department" not in errors and DEPARTMENT_ROLES & set(roles):
        errors["department"] = [_("部门：承办人和部门负责人必须属于一个部门。")]
    if errors:
        raise ValidationFailed(errors)
    return full_name, department, roles


def _staff_values(staff: Staff) -> dict[str, Any]:
    return {
        "full_name": staff.full_name,
        "department": staff.department.name if staff.department is not None else None,
        "roles": list(staff.roles or []),
    }


def _locked_staff(org: Organization, staff_id: int) -> Staff:
    staff = Staff.objects.select_for_update().filter(organization=org, is_superuser=False, pk=staff_id).first()
    if staff is None:
        raise _not_found(_("找不到该工作人员。"))
    return staff


def staff_create(
    *,
    actor: Staff,
    username: str,
    data: StaffInput,
    password: str | None = None,
    must_change_password: bool = True,
) -> tuple[Staff, str | None]:
    """Open an account in the actor's organisation. Without ``password`` one is generated
    and returned (show it once); with one, it must pass the password validators."""
    _require(actor)
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = [_("用户名：请填写。")]
    elif not USERNAME.match(username):
        errors["username"] = [_("用户名：2–40 个字符，以字母或数字开头，只能包含英文字母、数字和 . @ + - _ 。")]
    with transaction.atomic():
        org = _lock_organization(actor)
        try:
            full_name, department, roles = _checked_staff(org, data)
        except ValidationFailed as exc:
            errors.update(exc.errors)
            full_name, department, roles = "", None, []
        if "username" not in errors and Staff.objects.filter(username__iexact=username).exists():
            errors["username"] = [_("用户名：“%(username)s”已被使用，请换一个。") % {"username": username}]
        staff = Staff(
            username=username,
            full_name=full_name,
            organization=org,
            department=department,
            roles=roles,
            is_active=True,
            is_staff=False,
            is_superuser=False,
        )
        generated = None
        if password is None:
            generated = password = generate_password(staff)
        else:
            try:
                _check_password(password, staff, "password1", _("密码"))
            except ValidationFailed as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationFailed(errors)
        staff.set_password(password)
        try:
            with transaction.atomic():
                staff.save()
        except IntegrityError as exc:  # the same username, committed by another request meanwhile
            raise ValidationFailed(
                {"username": [_("用户名：“%(username)s”已被使用，请换一个。") % {"username": username}]}
            ) from exc
        if must_change_password:
            PasswordChangeRequired.objects.create(staff=staff, set_by=actor)
        _audit(
            actor,
            AuditAction.STAFF_CREATED,
            staff=staff,
            changes=[
                {"field": "username", "old": None, "new": username},
                *_diff({}, _staff_values(staff)),
                {"field": "must_change_password", "old": None, "new": must_change_password},
            ],
        )
    return staff, generated


def staff_update(*, actor: Staff, staff_id: int, data: StaffInput, expected_version: int | None = None) -> Staff:
    """Change an account's name, department and roles. An administrator cannot take the
    administrator role from themselves, nor from the organisation's last active one.
    ``expected_version``: the account's version the form was made for; another
    administrator's change saved since then is refused (``StaleObject``), never overwritten."""
    _require(actor)
    with transaction.atomic():
        org = _lock_organization(actor)
        staff = _locked_staff(org, staff_id)
        check_version(staff, expected_version, what=_("该工作人员的资料"))
        full_name, department, roles = _checked_staff(org, data)
        if staff.pk == actor.pk and Role.ADMIN not in roles:
            raise ApplicationError(
                _("角色：不能取消您自己的系统管理员角色（以免无人能管理本单位）；如需交接，请由另一位系统管理员操作。"),
                code=AdministrationError.SELF_LOCKOUT,
                field="roles",
            )
        before = _staff_values(staff)
        staff.full_name, staff.department, staff.roles = full_name, department, roles
        changes = _diff(before, _staff_values(staff))
        if not changes:
            return staff
        bump(staff, ["full_name", "department", "roles"])
        _audit(actor, AuditAction.STAFF_UPDATED, staff=staff, changes=changes)
    return staff


def staff_set_active(*, actor: Staff, staff_id: int, active: bool) -> Staff:
    """Deactivate (the account can no longer sign in, its open sessions end; its history
    stays) or reactivate an account. Never deleted: cases and events name their staff."""
    _require(actor)
    with transaction.atomic():
        org = _lock_organization(actor)
        staff = _locked_staff(org, staff_id)
        if staff.is_active == active:
            return staff
        if not active and staff.pk == actor.pk:
            raise ApplicationError(
                _("不能停用您自己的账号（以免无人能管理本单位）。"), code=AdministrationError.SELF_LOCKOUT
            )
        staff.is_active = active
        staff.save(update_fields=["is_active"])
        _audit(
            actor,
            AuditAction.STAFF_REACTIVATED if active else AuditAction.STAFF_DEACTIVATED,
            staff=staff,
            changes=[{"field": "is_active", "old": not active, "new": active}],
        )
    return staff


def staff_reset_password(*, actor: Staff, staff_id: int) -> tuple[Staff, str]:
    """Give another account a generated password (returned once, to be handed over); its
    owner must choose their own at the next sign-in, their open sessions end, and a login
    lock from failed attempts is lifted (the reset is how a locked-out person gets back in)."""
    _require(actor)
    with transaction.atomic():
        org = _lock_organization(actor)
        staff = _locked_staff(org, staff_id)
        if staff.pk == actor.pk:
            raise ApplicationError(_("请通过“修改密码”修改您自己的密码。"), code=AdministrationError.SELF_LOCKOUT)
        password = generate_password(staff)
        staff.set_password(password)
        staff.save(update_fields=["password"])
        PasswordChangeRequired.objects.update_or_create(staff=staff, defaults={"set_by": actor})
        login_unlock(username=staff.get_username())
        _audit(
            actor,
            AuditAction.PASSWORD_RESET,
            staff=staff,
            changes=[{"field": "must_change_password", "old": None, "new": True}],
        )
    return staff, password


def password_change_own(*, user: Staff, old_password: str, new_password: str) -> None:
    """Anyone signed in changes their own password (and, when an administrator set it,
    may use the desk again). Recorded in the organisation's administration trail."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(old_password or ""):
        errors["old_password"] = [_("原密码：不正确，请重新输入。")]
    if not new_password:
        errors["new_password1"] = [_("新密码：请填写。")]
    elif new_password == old_password:
        errors["new_password1"] = [_("新密码：不能与原密码相同。")]
    else:
        try:
            _check_password(new_password, user, "new_password1", _("新密码"))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        PasswordChangeRequired.objects.filter(staff=user).delete()
        if user.organization_id is not None:
            _audit(user, AuditAction.PASSWORD_CHANGED, staff=user, organization_id=user.organization_id)


# --- departments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentInput:
    name: str
    parent_id: int | None
    handles_cases: bool
    sort_order: int = 0


def _department_values(department: Department) -> dict[str, Any]:
    return {
        "name": department.name,
        "parent": department.parent.name if department.parent is not None else None,
        "handles_cases": department.handles_cases,
        "sort_order": department.sort_order,
    }


def _checked_department(
    org: Organization, data: DepartmentInput, *, department: Department | None = None
) -> tuple[str, Department | None]:
    errors: dict[str, list[str]] = {}
    name = ""
    try:
        name = _plain_text(data.name, "name", _("名称"), limit=120)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    parent = None
    if data.parent_id is not None:
        parent = Department.objects.filter(organization=org, pk=data.parent_id).first()
        if parent is None:
            errors["parent"] = [_("上级部门：请从本单位的部门中选择。")]
        elif department is not None:
            # Not itself nor one of its own sub-departments: the tree has no cycles.
            node: Department | None = parent
            hops = 0
            while node is not None and hops < 1000:
                if node.pk == department.pk:
                    errors["parent"] = [_("上级部门：不能是该部门本身或它的下级部门。")]
                    break
                node = node.parent
                hops += 1
    if not (0 <= data.sort_order <= 100000):
        errors["sort_order"] = [_("排序：请填写 0 到 100000 之间的整数。")]
    if name and "parent" not in errors:
        siblings = Department.objects.filter(organization=org, parent=parent, name=name)
        if department is not None:
            siblings = siblings.exclude(pk=department.pk)
        if siblings.exists():
            errors["name"] = [_("名称：同一上级下已有名为“%(name)s”的部门。") % {"name": name}]
    if errors:
        raise ValidationFailed(errors)
    return name, parent


def _free_code(org: Organization) -> str:
    taken = set(Department.objects.filter(organization=org).values_list("code", flat=True))
    n = len(taken) + 1
    while f"dept-{n}" in taken:
        n += 1
    return f"dept-{n}"


def department_create(*, actor: Staff, data: DepartmentInput, code: str = "") -> Department:
    """Add a department to the actor's organisation (``code`` optional: one is chosen)."""
    _require(actor)
    code = (code or "").strip()
    code_errors: dict[str, list[str]] = {}
    if code and not CODE.match(code):
        code_errors["code"] = [_("代码：最多 40 个字符，只能包含英文字母、数字、下划线和连字符。")]
    with transaction.atomic():
        org = _lock_organization(actor)
        try:
            name, parent = _checked_department(org, data)
        except ValidationFailed as exc:
            raise ValidationFailed({**exc.errors, **code_errors}) from exc
        if code_errors:
            raise ValidationFailed(code_errors)
        if code and Department.objects.filter(organization=org, code__iexact=code).exists():
            raise ValidationFailed({"code": [_("代码：本单位已有代码为“%(code)s”的部门。") % {"code": code}]})
        department = Department.objects.create(
            organization=org,
            code=code or _free_code(org),
            name=name,
            parent=parent,
            handles_cases=data.handles_cases,
            sort_order=data.sort_order,
        )
        _audit(
            actor,
            AuditAction.DEPARTMENT_CREATED,
            department=department,
            changes=[
                {"field": "code", "old": None, "new": department.code},
                *_diff({}, _department_values(department)),
            ],
        )
    return department


def _locked_department(org: Organization, department_id: int) -> Department:
    department = Department.objects.select_for_update().filter(organization=org, pk=department_id).first()
    if department is None:
        raise _not_found(_("找不到该部门。"))
    return department


def department_update(
    *, actor: Staff, department_id: int, data: DepartmentInput, expected_version: int | None = None
) -> Department:
    """Rename a department, move it under another of the organisation's departments, or
    change whether it handles cases. Its code stays (imports and presets refer to it).
    ``expected_version``: as ``staff_update``'s."""
    _require(actor)
    with transaction.atomic():
        org = _lock_organization(actor)
        department = _locked_department(org, department_id)
        check_version(department, expected_version, what=_("该部门"))
        name, parent = _checked_department(org, data, department=department)
        before = _department_values(department)
        department.name, department.parent = name, parent
        department.handles_cases, department.sort_order = data.handles_cases, data.sort_order
        changes = _diff(before, _department_values(department))
        if not changes:
            return department
        bump(department, ["name", "parent", "handles_cases", "sort_order"])
        _audit(actor, AuditAction.DEPARTMENT_UPDATED, department=department, changes=changes)
    return department


def department_references(department: Department) -> list[str]:
    """What still refers to the department (staff, sub-departments, cases, dispatches,
    categories...), by the referring model's name; the administration trail does not count."""
    found: list[str] = []
    for relation in Department._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel):
            continue
        model = relation.related_model
        # An auto-created many-to-many table is covered by its many-to-many relation.
        if not isinstance(model, type) or model is AuditEntry or model._meta.auto_created:
            continue
        if model._base_manager.filter(**{relation.field.name: department}).exists():
            label = str(model._meta.verbose_name)
            if label not in found:
                found.append(label)
    return found


def department_delete(*, actor: Staff, department_id: int) -> str:
    """Delete a department nothing refers to (one created by mistake); otherwise refused,
    naming what still refers to it. Returns the deleted department's name."""
    _require(actor)
    with transaction.atomic():
        org = _lock_organization(actor)
        department = _locked_department(org, department_id)
        references = department_references(department)
        if references:
            raise ApplicationError(
                _("“%(name)s”仍被使用（%(what)s），不能删除；可以改名、调整上级，或取消“可承办”。")
                % {"name": department.name, "what": "、".join(references)},
                code=AdministrationError.DEPARTMENT_IN_USE,
            )
        name = department.name
        _audit(
            actor,
            AuditAction.DEPARTMENT_DELETED,
            department=department,
            changes=[
                {"field": "name", "old": name, "new": None},
                {"field": "code", "old": department.code, "new": None},
            ],
        )
        department.delete()
    return name


# --- categories and their tags ---------------------------------------------------------------


def category_set_tags(*, actor: Staff, category_id: int, tags: str, expected_version: int | None = None) -> Category:
    """Tag a category (分类标签) so that preset rules written for a kind of matter find it.
    Refused, naming the rule, when the change would leave a rule of the running policy
    matching no category (its cases would fall back to the general limit unnoticed).
    ``expected_version``: as ``staff_update``'s."""
    _require(actor)
    text = categories.parse_tags(tags)
    with transaction.atomic():
        org = _lock_organization(actor)
        category = Category.objects.select_for_update().filter(organization=org, pk=category_id).first()
        if category is None:
            raise _not_found(_("找不到该分类。"))
        check_version(category, expected_version, what=_("该分类的标签"))
        if text == category.tags:
            return category
        running = current_policy(org)
        if running is not None:
            preset = running.preset()
            before = {p.path for p in categories.unmatched(preset, categories.catalogue_terms(org.pk))}
            after = categories.unmatched(preset, categories.catalogue_terms(org.pk, {category.pk: text}))
            lost = [p for p in after if p.path not in before]
            if lost:
                raise ValidationFailed({"tags": [_("标签：%(problem)s") % {"problem": lost[0].message}]})
        old, category.tags = category.tags, text
        bump(category, ["tags"])
        AuditEntry.objects.create(
            organization=org,
            actor=actor,
            action=AuditAction.CATEGORY_TAGGED,
            target=(category.full_name or category.name)[:200],
            changes=[{"field": "tags", "old": old, "new": text}],
        )
    return category
