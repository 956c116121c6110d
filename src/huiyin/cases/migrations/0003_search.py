"""Full-text index over Case.search_document (character bigrams, see core/search.py).

SQLite: an FTS5 external-content table kept in step by triggers.
PostgreSQL: a generated tsvector column ('simple' config) with a GIN index.
"""

from django.db import migrations

SQLITE_UP = [
    "CREATE VIRTUAL TABLE cases_case_fts USING fts5(search_document, content='cases_case', "
    "content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER cases_case_fts_ai AFTER INSERT ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(rowid, search_document) VALUES (new.id, new.search_document); END",
    "CREATE TRIGGER cases_case_fts_ad AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); END",
    "CREATE TRIGGER cases_case_fts_au AFTER UPDATE OF search_document ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); "
    "INSERT INTO cases_case_fts(rowid, search_document) VALUES (new.id, new.search_document); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS cases_case_fts_au",
    "DROP TRIGGER IF EXISTS cases_case_fts_ad",
    "DROP TRIGGER IF EXISTS cases_case_fts_ai",
    "DROP TABLE IF EXISTS cases_case_fts",
]
# A stored generated column (unknown to the Django model, maintained by PostgreSQL) so
# that rechecks and the planner's row filters read a ready tsvector instead of
# re-parsing the document for every candidate row.
POSTGRES_UP = [
    "ALTER TABLE cases_case ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_document)) STORED",
    "CREATE INDEX cases_case_search_gin ON cases_case USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS cases_case_search_gin",
    "ALTER TABLE cases_case DROP COLUMN IF EXISTS search_vector",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
