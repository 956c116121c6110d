"""Training and evaluation files: CSV with a ``label`` column and the text in ``text``, or
``text_seg`` (pre-segmented: words separated by spaces), or — where ``text`` is empty —
``title`` and ``detail`` joined. Other columns are ignored. UTF-8 (with or without a byte
order mark) or GB18030, as Excel writes Chinese CSV.

Pre-segmented text is joined back (the spaces between Chinese words removed) and segmented
again by ``core.chinese``: the model then learns the features it will see at intake, where
nobody segments the text for it."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from huiyin.core.errors import ApplicationError

from .errors import TriageError

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_IN_CHINESE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
TEXT_COLUMNS = ("text", "text_seg", "title", "detail")

csv.field_size_limit(10_000_000)


@dataclass
class Example:
    label: str
    title: str
    text: str


@dataclass
class Dataset:
    examples: list[Example] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: int = 0  # rows without a label or without any text

    def labels(self) -> Counter[str]:
        return Counter(e.label for e in self.examples)


def unsegment(text: str) -> str:
    """Pre-segmented text as it was typed: no spaces between Chinese words."""
    return _SPACE_IN_CHINESE.sub("", text)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ApplicationError(
        _("文件 %(file)s 不是 UTF-8 或 GB18030 编码的 CSV 文件。") % {"file": path.name},
        field="data",
        code=TriageError.UNREADABLE_FILE,
    )


def read(paths: Iterable[str | Path]) -> Dataset:
    """Every example of every file; a file that cannot be used is refused whole, naming it."""
    data = Dataset()
    for raw_path in paths:
        path = Path(raw_path)
        try:
            content = _decode(path)
        except OSError as exc:
            raise ApplicationError(
                _("无法读取文件 %(file)s：%(reason)s") % {"file": path.name, "reason": exc.strerror or exc},
                field="data",
                code=TriageError.UNREADABLE_FILE,
            ) from exc
        reader = csv.DictReader(content.splitlines())
        columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
        missing = []
        if "label" not in columns:
            missing.append("label")
        if not ({"text", "text_seg"} & set(columns) or {"title", "detail"} & set(columns)):
            missing.append("text（或 text_seg，或 title 和 detail）")
        if missing:
            raise ApplicationError(
                _("文件 %(file)s 缺少列：%(columns)s（现有列：%(present)s）。")
                % {
                    "file": path.name,
                    "columns": "、".join(missing),
                    "present": "、".join(reader.fieldnames or []) or _("无"),
                },
                field="data",
                code=TriageError.MISSING_COLUMNS,
            )
        data.files.append(path.name)
        for row in reader:
            value = {key: (row.get(original) or "").strip() for key, original in columns.items()}
            label = value.get("label", "")
            text = value.get("text", "")
            if not text and value.get("text_seg"):
                text = unsegment(value["text_seg"])
            title = ""
            if not text:
                title, text = value.get("title", ""), value.get("detail", "")
            if not label or not (text or title):
                data.skipped += 1
                continue
            data.examples.append(Example(label=label, title=title, text=text))
    if not data.examples:
        raise ApplicationError(
            _("训练文件中没有可用的行（每行需要标签和文本）。"), field="data", code=TriageError.NO_ROWS
        )
    return data
