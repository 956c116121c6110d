"""The English catalogue (src/huiyin/locale/en/LC_MESSAGES/django.po) is
complete, compiled, and covers every translatable string in the code.

When one of these fails: run ``scripts/i18n.sh`` (makemessages + compilemessages),
translate the new or fuzzy entries in django.po, and run it again so django.mo is
rebuilt. No database is needed.
"""

from __future__ import annotations

import ast
import gettext as gettext_module
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "huiyin"
LC_MESSAGES = SRC / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

# Template fragments that are glued around a value and have no English word
# of their own ("第 {{ n }} 轮" -> "Round {{ n }} "): whitespace is their
# translation. Anything else must translate to visible text.
WHITESPACE_OK = {"轮"}

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\u201c\u201d\u2018\u2019]")
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")


# --------------------------------------------------------------------------- .po


def _unquote(s: str) -> str:
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), f"bad PO string: {s!r}"
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), s[1:-1])


def parse_po(path: Path = PO_FILE) -> list[dict]:
    """Tiny PO reader: a list of {msgctxt, msgid, msgid_plural, msgstr: {index: str}, flags, obsolete}."""
    entries: list[dict] = []
    entry: dict | None = None
    key: tuple | None = None

    def new_entry():
        return {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set(), "obsolete": False}

    def flush():
        nonlocal entry
        if entry is not None and entry["msgid"] is not None:
            entries.append(entry)
        entry = None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            key = None
            continue
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if line.startswith("#,"):
            if entry is not None and entry["msgid"] is not None:
                flush()
            entry = entry or new_entry()
            entry["flags"].update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            if entry is not None and entry["msgid"] is not None:
                flush()
            entry = entry or new_entry()
            continue
        m = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if m:
            name, index, value = m.group(1), m.group(2), _unquote(m.group(3))
            if name in ("msgctxt", "msgid") and entry is not None and entry["msgid"] is not None:
                flush()
            entry = entry or new_entry()
            entry["obsolete"] = entry["obsolete"] or obsolete
            if name.startswith("msgstr"):
                key = ("msgstr", int(index or 0))
                entry["msgstr"][key[1]] = value
            else:
                key = (name,)
                entry[name] = value
            continue
        if line.startswith('"') and entry is not None and key is not None:
            if key[0] == "msgstr":
                entry["msgstr"][key[1]] += _unquote(line)
            else:
                entry[key[0]] += _unquote(line)
            continue
        raise AssertionError(f"{path.name}: cannot parse line {raw!r}")
    flush()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    assert PO_FILE.exists(), "run scripts/i18n.sh to create the English catalogue"
    return [e for e in parse_po() if e["msgid"] and not e["obsolete"]]


def test_po_header_is_complete():
    header = next(e for e in parse_po() if e["msgid"] == "")
    text = header["msgstr"][0]
    assert "fuzzy" not in header["flags"], "the header is still marked fuzzy"
    assert "charset=UTF-8" in text
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in text


def test_catalogue_is_not_trivial(po_entries):
    assert len(po_entries) > 100
    assert "台账" in {e["msgid"] for e in po_entries}


def test_every_entry_translated_and_not_fuzzy(po_entries):
    problems = []
    for e in po_entries:
        label = e["msgid"]
        if "fuzzy" in e["flags"]:
            problems.append(f"fuzzy: {label!r}")
        expected = {0, 1} if e["msgid_plural"] is not None else {0}
        if set(e["msgstr"]) != expected:
            problems.append(f"wrong msgstr forms {sorted(e['msgstr'])}: {label!r}")
        for text in e["msgstr"].values():
            if text == "" or (not text.strip() and e["msgid"] not in WHITESPACE_OK):
                problems.append(f"untranslated: {label!r}")
    assert not problems, "\n".join(problems)


def test_translations_are_english(po_entries):
    """No Chinese characters or full-width punctuation left in a translation."""
    leftovers = [(e["msgid"], t) for e in po_entries for t in e["msgstr"].values() if CJK.search(t)]
    assert not leftovers, leftovers


def test_placeholders_survive_translation(po_entries):
    def names(s):
        return sorted(m.group(0) for m in PLACEHOLDER.finditer(s))

    bad = []
    for e in po_entries:
        if "python-format" not in e["flags"] and "%" not in e["msgid"]:
            continue
        sources = [e["msgid"]] + ([e["msgid_plural"]] if e["msgid_plural"] else [])
        for i, text in e["msgstr"].items():
            source = sources[min(i, len(sources) - 1)]
            if names(text) != names(source):
                bad.append((e["msgid"], text))
    assert not bad, bad


# --------------------------------------------------------------------------- .mo


def test_mo_matches_po(po_entries):
    """django.mo was compiled from the current django.po (a forgotten compile fails here)."""
    assert MO_FILE.exists(), "run scripts/i18n.sh (compilemessages) to build django.mo"
    with MO_FILE.open("rb") as fh:
        catalog = gettext_module.GNUTranslations(fh)._catalog
    stale = []
    for e in po_entries:
        msgid = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
        if e["msgid_plural"] is None:
            if catalog.get(msgid) != e["msgstr"][0]:
                stale.append((e["msgid"], catalog.get(msgid), e["msgstr"][0]))
        else:
            for i, text in e["msgstr"].items():
                if catalog.get((msgid, i)) != text:
                    stale.append((e["msgid"], i, catalog.get((msgid, i)), text))
    assert not stale, f"django.mo is stale, run scripts/i18n.sh: {stale[:10]}"


def test_django_uses_the_english_catalogue():
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext("台账") == "Ledger"
        assert translation.gettext("受理凭证") == "Receipt"
        assert translation.gettext("查询码") == "Query code"
        assert translation.ngettext("该号码有 %(n)s 件历史诉求", "该号码有 %(n)s 件历史诉求", 2) % {"n": 2} == (
            "This number has 2 earlier cases"
        )
    with translation.override("zh-hans"):
        assert translation.gettext("台账") == "台账"


# --------------------------------------------------------------------------- source scan

GETTEXT_FUNCS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ugettext",
    "ugettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
_Q = r"""(?:"[^"]*"|'[^']*')"""
TRANS_TAG = re.compile(r"\{%\s*trans(?:late)?\s+(" + _Q + r")(?P<rest>[^%]*)%\}")
CONSTANT = re.compile(r"""\b_\((""" + _Q + r""")\)""")
BLOCKTRANS = re.compile(
    r"\{%\s*blocktrans(?:late)?\b(?P<args>[^%]*)%\}(?P<body>.*?)\{%\s*endblocktrans(?:late)?\s*%\}", re.S
)
BLOCK_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")
PLURAL_TAG = re.compile(r"\{%\s*plural\s*%\}")


def _source_files(*suffixes):
    for path in sorted(SRC.rglob("*")):
        parts = path.relative_to(SRC).parts
        if path.suffix in suffixes and path.is_file() and not {"migrations", "static", "locale"} & set(parts):
            yield path


def _blocktrans_msgids(args: str, body: str) -> list[str]:
    def to_msgid(text: str) -> str:
        pieces = re.split(r"(\{\{\s*\w+\s*\}\})", text)
        out = "".join(
            f"%({BLOCK_VAR.match(p).group(1)})s" if BLOCK_VAR.fullmatch(p) else p.replace("%", "%%") for p in pieces
        )
        if "trimmed" in args.split():
            out = " ".join(line.strip() for line in out.strip().splitlines() if line.strip())
        return out

    return [to_msgid(part) for part in PLURAL_TAG.split(body)]


def template_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in _source_files(".html", ".txt"):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(SRC))
        for m in TRANS_TAG.finditer(text):
            found.setdefault(m.group(1)[1:-1].replace("%", "%%"), where)
        for m in CONSTANT.finditer(text):
            found.setdefault(m.group(1)[1:-1], where)
        for m in BLOCKTRANS.finditer(text):
            for msgid in _blocktrans_msgids(m.group("args"), m.group("body")):
                found.setdefault(msgid, where)
    return found


def python_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in _source_files(".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name not in GETTEXT_FUNCS:
                continue
            args = node.args[1:] if name.startswith(("pgettext", "npgettext")) else node.args
            args = args[:2] if name.startswith(("ngettext", "npgettext")) else args[:1]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                    found.setdefault(arg.value, f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_scanner_finds_strings():
    templates, python = template_msgids(), python_msgids()
    assert "台账" in templates and "我的工作台" in templates
    assert "第 %(page_number)s 页" in templates  # {% blocktrans %} with a variable
    assert "受理凭证" in python


def test_every_source_string_is_in_the_catalogue(po_entries):
    known = {e["msgid"] for e in po_entries} | {e["msgid_plural"] for e in po_entries if e["msgid_plural"]}
    missing = {msgid: where for msgid, where in {**python_msgids(), **template_msgids()}.items() if msgid not in known}
    assert not missing, "strings missing from django.po (run scripts/i18n.sh, translate, run it again):\n" + "\n".join(
        f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1])
    )
