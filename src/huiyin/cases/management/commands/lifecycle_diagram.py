"""Print the case lifecycle diagram, or rewrite it inside a Markdown file between
the ``<!-- lifecycle:begin -->`` and ``<!-- lifecycle:end -->`` markers."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from huiyin.cases.workflow import mermaid_diagram

BEGIN, END = "<!-- lifecycle:begin -->", "<!-- lifecycle:end -->"


def diagram_block() -> str:
    return f"{BEGIN}\n```mermaid\n{mermaid_diagram()}\n```\n{END}"


def replace_block(text: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"markers {BEGIN} … {END} not found")
    return text[:start] + diagram_block() + text[end + len(END) :]


class Command(BaseCommand):
    help = "Generate the lifecycle diagram from the transition table."

    def add_arguments(self, parser):
        parser.add_argument("--write", metavar="MARKDOWN", help="rewrite the diagram block in this file")

    def handle(self, *args, write: str | None = None, **options):
        if not write:
            self.stdout.write(diagram_block())
            return
        path = Path(write)
        try:
            path.write_text(replace_block(path.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"updated {path}")
