"""Every model change has its migration: a field's new choices, an index, a new field. A
missing one leaves a fresh installation's schema (``make run``, CI) behind the code, and the
next ``makemigrations`` on someone's machine writes it under an unrelated change."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_without_its_migration():
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as exit_:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"models changed without a migration (run `huiyin makemigrations`): exit {exit_.code}")
