"""A refused preset is explained in the administrator's language: the loader's refusals
(English, for the command line) each have a translation the policy pages show."""

from __future__ import annotations

import ast
import inspect

import pytest
from django.urls import reverse
from django.utils import translation

from huiyin.policy import presets
from huiyin.policy.preset_messages import MESSAGES, message, problem
from huiyin.policy.presets import PresetError, load_preset_text
from huiyin.policy.services import presets_dir
from tests.conftest import make_staff

from .conftest import activate


def _templates() -> set[str]:
    """Every refusal template presets.py writes (``fail(v, "template", ...)``)."""
    found: set[str] = {"YAML syntax error: {problem}"}
    for node in ast.walk(ast.parse(inspect.getsource(presets))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "fail" and len(node.args) >= 2:
            template = node.args[1]
            assert not isinstance(template, ast.JoinedStr), (
                f"presets.py line {node.lineno}: write the refusal as a template with fields, not an f-string"
            )
            if isinstance(template, ast.Constant) and isinstance(template.value, str):
                found.add(template.value)
    return found


def test_every_refusal_of_the_loader_has_a_translation():
    templates = _templates()
    assert len(templates) > 25
    missing = sorted(t for t in templates if t not in MESSAGES)
    assert missing == [], "add these to policy/preset_messages.py MESSAGES"


def _broken() -> tuple[str, int]:
    """The shipped hotline preset with an unknown unit, and the line it is on."""
    text = (presets_dir() / "city_hotline.yaml").read_text(encoding="utf-8").replace("unit: minutes", "unit: minute", 1)
    line = next(n for n, x in enumerate(text.splitlines(), start=1) if x.strip() == "unit: minute")
    return text, line


def test_a_refusal_reads_in_chinese_and_in_english():
    broken, line = _broken()
    with pytest.raises(PresetError) as caught:
        load_preset_text(broken, "x.yaml")
    error = caught.value
    assert 'unknown unit "minute"' in str(error)  # the command line and the logs: as written
    with translation.override("zh-hans"):
        assert problem(error).startswith("unit的取值“minute”无效（可选：")
        assert message(error).startswith(f"x.yaml 第 {line} 行，deadlines[0].unit：unit的取值")
    with translation.override("en"):
        assert problem(error).startswith('unknown unit "minute" (expected one of minutes')
        assert message(error).startswith(f"x.yaml, line {line}, deadlines[0].unit: unknown unit")


@pytest.mark.django_db
def test_the_policy_page_explains_a_refusal_in_the_chosen_language(client, org):
    admin = make_staff(org, "admin", ["admin"])
    activate(org, "city_hotline")
    client.force_login(admin)
    initial = client.get(reverse("policy:edit")).context["form"].initial
    broken = initial["text"].replace("amount: 3", "amount: three", 1)
    response = client.post(reverse("policy:edit"), {"text": broken, "version": initial["version"]})
    html = response.content.decode()
    assert response.status_code == 400
    assert "应为整数，实际是文本“three”" in html and "expected a whole number" not in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.post(reverse("policy:edit"), {"text": broken, "version": initial["version"]})
    html = response.content.decode()
    assert "expected a whole number, got string &quot;three&quot;" in html
