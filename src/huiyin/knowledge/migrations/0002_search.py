"""Full-text index over KnowledgeEntry.search_document (character bigrams, core/search.py):
the same index as the case ledger's (SQLite FTS5 with triggers; PostgreSQL tsvector + GIN)."""

from django.db import migrations

from huiyin.core.search import index_operation


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [index_operation("knowledge_entry")]
