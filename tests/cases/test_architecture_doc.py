"""docs/architecture.md carries the lifecycle diagram generated from the transition table."""

from pathlib import Path

from huiyin.cases.management.commands.lifecycle_diagram import diagram_block

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_architecture_doc_diagram_matches_the_transition_table():
    assert diagram_block() in DOC.read_text(encoding="utf-8"), "docs/architecture.md is out of date: run `make diagram`"
