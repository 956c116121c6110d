"""Every preset key is read by something (issue 14): a key nothing reads is a rule the
office believes it runs and does not.

Walks every field of the ``Preset`` dataclasses, recursively, and looks for a read of it in
``src/huiyin`` outside the preset loader itself (``policy/presets.py`` only validates):

* an attribute access ``x.<field>`` in Python, or ``{{ x.<field> }}`` in a template;
* a string key ``x["<field>"]`` / ``x.get("<field>")`` (the stored snapshot, the stage
  switches a case copies at registration);
* the stage switches' enum (``Stage.SIGN_FOR`` is the ``sign_for`` key the workflow reads);
* ``required_step(switches, "<field>")`` (the required steps a case copies);
* the few fields read by ``getattr`` with a name from a list, each named below with the
  module that reads it (checked: the name must appear in that module).

The check is by name, so a name shared with an unrelated attribute passes; the listed
reads keep the dynamic ones honest. Documentary fields (provenance and display text that
no rule depends on) are listed with the reason.
"""

from __future__ import annotations

import ast
import re
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import get_args, get_type_hints

from huiyin.policy import presets
from huiyin.policy.stages import Stage

SRC = Path(__file__).resolve().parents[2] / "src" / "huiyin"
LOADER = SRC / "policy" / "presets.py"

# Read by getattr with a name taken from a list: (class, field) -> the module that reads it.
DYNAMIC = {
    ("UrgencyKeywords", "urgent"): "deadlines/services/clocks.py",  # getattr(preset.urgency_keywords, level)
    ("UrgencyKeywords", "major"): "deadlines/services/clocks.py",
    ("AcceptanceGrounds", "not_accepted"): "handling/actions.py",  # records.decision_ground(case, "not_accepted")
    ("AcceptanceGrounds", "not_reaccepted"): "handling/actions.py",
}
# Provenance and display text: no rule depends on them, the policy page shows some.
DOCUMENTARY = {
    "source": "the seed line a value comes from (shown on the policy page, not a rule)",
    "description": "the preset's one-paragraph summary on the policy page",
}


def preset_fields() -> list[tuple[str, str]]:
    seen: set[type] = set()
    out: list[tuple[str, str]] = []

    def walk(cls: type) -> None:
        if cls in seen:
            return
        seen.add(cls)
        hints = get_type_hints(cls)
        for f in fields(cls):
            out.append((cls.__name__, f.name))
            for tp in (hints[f.name], *get_args(hints[f.name])):
                for inner in (tp, *get_args(tp)):
                    if isinstance(inner, type) and is_dataclass(inner):
                        walk(inner)

    walk(presets.Preset)
    return out


def reads() -> set[str]:
    names: set[str] = set()
    stage_values = {member.name: member.value for member in Stage}
    for path in SRC.rglob("*.py"):
        if path == LOADER or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
                if isinstance(node.value, ast.Name) and node.value.id == "Stage" and node.attr in stage_values:
                    names.add(stage_values[node.attr])
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                names.add(str(node.slice.value))
            elif isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                consts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if called == "get" and consts[:1]:
                    names.add(consts[0])
                if called == "required_step":
                    names.update(consts)
    for path in SRC.rglob("*.html"):
        names.update(re.findall(r"\.([a-z_][a-z0-9_]*)", path.read_text(encoding="utf-8")))
    return names


def test_every_preset_field_is_read_by_the_application():
    found = reads()
    unread = []
    for cls, name in preset_fields():
        if name in DOCUMENTARY:
            continue
        module = DYNAMIC.get((cls, name))
        if module is not None:
            assert f'"{name}"' in (SRC / module).read_text(encoding="utf-8"), (cls, name, module)
            continue
        if name not in found:
            unread.append(f"{cls}.{name}")
    assert not unread, f"preset keys nothing in src/huiyin reads (use them or remove them): {unread}"


def test_the_dynamic_reads_are_still_dynamic_and_documentary_fields_exist():
    every = set(preset_fields())
    assert set(DYNAMIC) <= every
    assert {name for _cls, name in every} >= set(DOCUMENTARY)
