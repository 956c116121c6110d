"""Each rule test of the property, hospital and construction-station presets quotes the
seed line it enforces, verbatim: ``seeds/<file>:<line>「<text>」`` in its docstring, and the
text is on that line of /work/shared/seeds (or, when the repository has them, seeds/)."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FILES = ("test_construction_station_rules.py", "test_property_management_rules.py", "test_hospital_rules.py")
QUOTE = re.compile(r"seeds/(\d{3}_[0-9a-f]{16}\.txt):(\d+)「([^」]+)」")


def seeds_dir() -> Path | None:
    for candidate in (os.environ.get("HUIYIN_SEEDS_DIR", ""), "/work/shared/seeds", str(HERE.parents[3] / "seeds")):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def rule_tests() -> list[tuple[str, str, str]]:
    out = []
    for name in FILES:
        tree = ast.parse((HERE / name).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                out.append((name, node.name, ast.get_docstring(node) or ""))
    return out


@pytest.mark.parametrize(("module", "test", "doc"), rule_tests(), ids=lambda v: v if v.startswith("test_") else "")
def test_the_rule_test_quotes_its_seed_line(module, test, doc):
    quotes = QUOTE.findall(doc)
    assert quotes, f"{module}::{test} quotes no seed line"
    folder = seeds_dir()
    if folder is None:
        pytest.skip("the seed texts are not on this machine")
    for filename, line, text in quotes:
        lines = (folder / filename).read_text(encoding="utf-8").splitlines()
        assert text in lines[int(line) - 1], f"{module}::{test}: not on {filename}:{line}: {text}"
