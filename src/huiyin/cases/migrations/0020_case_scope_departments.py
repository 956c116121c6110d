"""The departments that see a case, as one indexed column (PostgreSQL).

Department staff see the cases their department leads or assists, and the ones they
handle or received (``selectors.cases_for``). Asked as ``lead = D OR EXISTS(assisting
D) OR handler = me OR …`` the condition has a part (the EXISTS) that no index of the case
table serves, so a department's ledger walked the whole organisation's newest-first
index and tested every row — seconds at a million cases for a filter outside the
department. ``scope_departments`` holds the lead and the assisting departments of each
case (sorted, no repeats) with a GIN index: ``scope_departments @> ARRAY[D]`` is an index
scan, and with the handler's and the first contact's indexes the whole condition is a
bitmap OR that combines with the filters' indexes.

The column is the database's, unknown to the Django model (like ``search_vector``), and
PostgreSQL keeps it in the same statement as every change: a BEFORE trigger on the case
when it is written with its lead department, an AFTER trigger on the assisting
departments' table for each row added or removed. Whoever writes — a service, the API,
an import, raw SQL — the column cannot fall behind. SQLite (a small installation) keeps
the EXISTS and needs nothing here. Existing cases are filled in by the migration.
"""

from django.db import migrations

THROUGH = "cases_case_assisting_departments"

POSTGRES_UP = [
    "ALTER TABLE cases_case ADD COLUMN IF NOT EXISTS scope_departments bigint[] NOT NULL DEFAULT '{}'",
    f"""
    CREATE OR REPLACE FUNCTION cases_scope_departments(p_case bigint, p_lead bigint) RETURNS bigint[]
    LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg(d ORDER BY d), '{{}}') FROM (
            SELECT p_lead AS d WHERE p_lead IS NOT NULL
            UNION
            SELECT department_id FROM {THROUGH} WHERE case_id = p_case
        ) AS s
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cases_case_scope_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.scope_departments := cases_scope_departments(NEW.id, NEW.lead_department_id);
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cases_assisting_scope_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE cases_case SET scope_departments = cases_scope_departments(id, lead_department_id)
            WHERE id = NEW.case_id;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE cases_case SET scope_departments = cases_scope_departments(id, lead_department_id)
            WHERE id = OLD.case_id;
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    "DROP TRIGGER IF EXISTS cases_case_scope ON cases_case",
    "CREATE TRIGGER cases_case_scope BEFORE INSERT OR UPDATE OF lead_department_id ON cases_case "
    "FOR EACH ROW EXECUTE FUNCTION cases_case_scope_refresh()",
    f"DROP TRIGGER IF EXISTS cases_assisting_scope ON {THROUGH}",
    f"CREATE TRIGGER cases_assisting_scope AFTER INSERT OR UPDATE OR DELETE ON {THROUGH} "
    "FOR EACH ROW EXECUTE FUNCTION cases_assisting_scope_refresh()",
    f"""
    UPDATE cases_case AS c SET scope_departments = cases_scope_departments(c.id, c.lead_department_id)
    WHERE c.lead_department_id IS NOT NULL OR EXISTS (SELECT 1 FROM {THROUGH} AS a WHERE a.case_id = c.id)
    """,
    "CREATE INDEX IF NOT EXISTS cases_case_scope_gin ON cases_case USING gin (scope_departments)",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS cases_assisting_scope ON {THROUGH}",
    "DROP TRIGGER IF EXISTS cases_case_scope ON cases_case",
    "DROP FUNCTION IF EXISTS cases_assisting_scope_refresh()",
    "DROP FUNCTION IF EXISTS cases_case_scope_refresh()",
    "DROP FUNCTION IF EXISTS cases_scope_departments(bigint, bigint)",
    "DROP INDEX IF EXISTS cases_case_scope_gin",
    "ALTER TABLE cases_case DROP COLUMN IF EXISTS scope_departments",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0019_party_visit_fields_urgency_reason")]

    operations = [
        migrations.RunPython(_run({"postgresql": POSTGRES_UP}), _run({"postgresql": POSTGRES_DOWN})),
    ]
