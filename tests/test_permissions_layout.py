"""Permission rules live in ``<app>/permissions.py``: template tags and templates only read
flags a selector (or the navigation context processor) computed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import huiyin

SRC = Path(huiyin.__file__).parent
TAG_MODULES = sorted(SRC.glob("*/templatetags/*.py"))


def _imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _permission_reads(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"can", "caps", "roles", "is_dept_head"}:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_there_are_template_tag_modules_to_check():
    assert TAG_MODULES


def test_no_template_tag_module_decides_permissions():
    offenders = {}
    for path in TAG_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad = [m for m in _imported_modules(tree) if m == "huiyin.orgs.roles" or m.endswith(".permissions")]
        bad += _permission_reads(tree)
        if bad:
            offenders[str(path.relative_to(SRC))] = bad
    assert offenders == {}


def test_no_template_reads_roles_or_capabilities():
    pattern = re.compile(r"\.(caps|roles|is_dept_head)\b|\.can\b")
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.glob("*/templates/**/*.html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


VIEW_MODULES = sorted(SRC.glob("*/views.py")) + sorted(SRC.glob("*/views/*.py"))
EVENT_WRITERS = {"case_record_event", "_event", "_record", "publish"}


def test_no_view_writes_case_events():
    """Events are written by services in the transaction of the change they record."""
    assert VIEW_MODULES
    offenders = {}
    for path in VIEW_MODULES:
        tree = ast.parse(path.read_text())
        calls = [
            f"line {node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id in EVENT_WRITERS)
                or (isinstance(node.func, ast.Attribute) and node.func.attr in EVENT_WRITERS)
                or (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "create"
                    and isinstance(node.func.value, ast.Attribute)
                    and isinstance(node.func.value.value, ast.Name)
                    and node.func.value.value.id == "Event"
                )
            )
        ]
        if calls:
            offenders[str(path.relative_to(SRC))] = calls
    assert offenders == {}
