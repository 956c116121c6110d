"""Where a preset's rule comes from (its ``source``), as the pages show it. The shipped
presets cite the rulebooks they were written from by file and line (``seeds/….txt 行 24``)
and the product's own documents (``SPEC F50``, ``POLICY-REFERENCE.md``): names of files a
user has never seen. They are shown in words; the rest of the text as written."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_RULEBOOK = re.compile(r"seeds/[0-9A-Za-z_]+\.txt\s*行\s*([0-9][0-9–\-、]*)")
_RULEBOOK_FILE = re.compile(r"seeds/[0-9A-Za-z_]+\.txt")
_SPEC = re.compile(r"SPEC\s*F\d+(?:\s*[、,]\s*F\d+)*")
_ISSUE = re.compile(r"issue\s*\d+\s*标准指标集")
_REFERENCE = re.compile(r"POLICY-REFERENCE\.md")


def shown(source: str) -> str:
    text = _RULEBOOK.sub(lambda m: _("本单位制度原文第 %(lines)s 行") % {"lines": m[1]}, source or "")
    text = _RULEBOOK_FILE.sub(lambda m: _("本单位制度原文"), text)
    text = _SPEC.sub(lambda m: _("回音产品规格"), text)
    text = _ISSUE.sub(lambda m: _("标准指标集"), text)
    return _REFERENCE.sub(lambda m: _("常见地方规定（回音整理）"), text)
