"""Imports sit at the top of a module. One inside a function is allowed only with a comment
on its line (or the line above) saying why it cannot be at the top: an import cycle, an
AppConfig that runs before the apps are ready, a heavy library loaded only when used."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import huiyin

SRC = Path(huiyin.__file__).parent
MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.relative_to(SRC).parts)


def _comment_lines(text: str) -> tuple[set[int], set[int]]:
    """(lines with a comment, lines holding only a comment)."""
    anywhere: set[int] = set()
    alone: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            anywhere.add(tok.start[0])
            if not tok.line[: tok.start[1]].strip():
                alone.add(tok.start[0])
    return anywhere, alone


def _function_level_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and in_function:
                found.append(child)
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    return found


def uncommented_function_imports(text: str) -> list[int]:
    """Line numbers of imports inside a function without a comment saying why."""
    anywhere, alone = _comment_lines(text)
    bad = []
    for node in _function_level_imports(ast.parse(text)):
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        if not any(n in anywhere for n in lines) and node.lineno - 1 not in alone:
            bad.append(node.lineno)
    return bad


def test_there_are_modules_to_check():
    assert len(MODULES) > 100
    assert SRC / "cases" / "services.py" in MODULES


def test_the_check_tells_a_commented_function_import_from_a_bare_one():
    text = (
        "import os\n"
        "\n"
        "def a():\n"
        "    from x import y  # cycle: x imports this module\n"
        "\n"
        "def b():\n"
        "    # heavy: only when a PDF is rendered\n"
        "    import z\n"
        "\n"
        "def c():\n"
        "    import w\n"
        "\n"
        "class K:\n"
        "    def m(self):\n"
        "        if True:\n"
        "            from v import (\n"
        "                u,\n"
        "            )\n"
    )
    assert uncommented_function_imports(text) == [11, 16]


def test_every_function_level_import_says_why_it_is_not_at_the_top():
    offenders = [
        f"{path.relative_to(SRC)}:{line}"
        for path in MODULES
        for line in uncommented_function_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
