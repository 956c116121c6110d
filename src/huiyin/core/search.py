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

from django.db import connection, migrations
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

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


# --- the index of a table's ``search_document`` column ---------------------------------------------


def index_statements(table: str) -> dict[str, tuple[list[str], list[str]]]:
    """(up, down) SQL per database vendor that indexes ``table.search_document``: an FTS5
    external-content table ``<table>_fts`` kept in step by triggers on SQLite; a stored
    generated tsvector ``search_vector`` with a GIN index on PostgreSQL. The case ledger's
    own index (cases migration 0003) is the same; ``keyword_filter`` queries either."""
    fts = f"{table}_fts"
    sqlite_up = [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_document, content='{table}', "
        "content_rowid='id', tokenize='unicode61')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_document) VALUES (new.id, new.search_document); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_document) VALUES ('delete', old.id, old.search_document); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_document ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_document) VALUES ('delete', old.id, old.search_document); "
        f"INSERT INTO {fts}(rowid, search_document) VALUES (new.id, new.search_document); END",
    ]
    sqlite_down = [f"DROP TRIGGER IF EXISTS {fts}_{t}" for t in ("au", "ad", "ai")] + [f"DROP TABLE IF EXISTS {fts}"]
    postgres_up = [
        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', search_document)) STORED",
        f"CREATE INDEX {table}_search_gin ON {table} USING gin (search_vector)",
    ]
    postgres_down = [
        f"DROP INDEX IF EXISTS {table}_search_gin",
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector",
    ]
    return {"sqlite": (sqlite_up, sqlite_down), "postgresql": (postgres_up, postgres_down)}


def index_operation(table: str):
    """The migration operation that creates (and drops) ``index_statements(table)``."""
    statements = index_statements(table)

    def run(index: int):
        def apply(apps, schema_editor) -> None:
            for sql in statements.get(schema_editor.connection.vendor, ([], []))[index]:
                schema_editor.execute(sql)

        return apply

    return migrations.RunPython(run(0), run(1))


def keyword_filter(qs, keyword: str, *, table: str):
    """``qs`` (rows of ``table``) narrowed to those whose ``search_document`` holds every run
    of ``keyword`` as a phrase (decision 0002), through the index ``index_statements`` made;
    unchanged for a keyword with nothing to search for."""
    if not any(query_phrases(keyword)):
        return qs
    if connection.vendor == "postgresql":
        match = RawSQL(f"{table}.search_vector @@ to_tsquery('simple', %s)", [tsquery(keyword)], BooleanField())
        return qs.alias(_match=match).filter(_match=True)
    return qs.filter(pk__in=RawSQL(f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s", [fts5_query(keyword)]))
