"""Chinese search documents: overlapping character bigrams in text order.

A CJK run "楼上漏水" becomes "楼上 上漏 漏水"; Latin words and numbers stay whole
(lower-cased). A query is tokenised the same way and matched as a phrase, so
any term of two or more characters is found exactly where it occurs as a
substring, without a dictionary (see docs/decisions/0002-bigram-search.md).
The same document feeds SQLite FTS5 and PostgreSQL's 'simple' tsvector.

Documents and queries are first normalised by ``core.chinese.normalize`` (full width to
half width, traditional to simplified, lower case), the text processing triage shares:
「電話」 finds 「电话」 and 「１２３」 finds 「123」.
"""

from __future__ import annotations

import re

from .chinese import char_ngrams, normalize

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[0-9A-Za-z]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def _run_tokens(run: str) -> list[str]:
    if not _IS_CJK.match(run):
        return [run.lower()]
    if len(run) == 1:
        return [run]
    return char_ngrams(run, 2, 2)


def _doc_tokens(run: str) -> list[str]:
    # The run's last character also stands alone, so that a one-character query
    # (a prefix search) finds it even where it ends a run.
    tokens = _run_tokens(run)
    if len(run) > 1 and _IS_CJK.match(run):
        tokens.append(run[-1])
    return tokens


def document(*parts: str | None) -> str:
    tokens: list[str] = []
    for part in parts:
        for run in _RUNS.findall(normalize(part)):
            tokens.extend(_doc_tokens(run))
    return " ".join(tokens)


def query_phrases(query: str) -> list[list[str]]:
    """One phrase (token list) per run in the query; all phrases must match."""
    return [_run_tokens(run) for run in _RUNS.findall(normalize(query))]


def _single_char(phrase: list[str]) -> bool:
    return len(phrase) == 1 and len(phrase[0]) == 1 and bool(_IS_CJK.match(phrase[0]))


def fts5_query(query: str) -> str:
    """'漏水 噪音' -> '"漏水" AND "噪音"'; one character becomes a prefix query."""
    parts = []
    for phrase in query_phrases(query):
        quoted = '"' + " ".join(phrase) + '"'
        parts.append(quoted + "*" if _single_char(phrase) else quoted)
    return " AND ".join(parts)


def tsquery(query: str) -> str:
    """PostgreSQL to_tsquery text: a run's tokens joined with <->, runs ANDed."""
    parts = []
    for phrase in query_phrases(query):
        parts.append(phrase[0] + ":*" if _single_char(phrase) else "(" + " <-> ".join(phrase) + ")")
    return " & ".join(parts)
