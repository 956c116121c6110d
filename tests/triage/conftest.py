from __future__ import annotations

import pytest

from huiyin.cases.models import Category
from huiyin.triage import store

from .toy import CLASSES


@pytest.fixture(autouse=True)
def _fresh_models():
    store.forget()
    yield
    store.forget()


def add_category(org, name: str, parent: Category | None = None) -> Category:
    full = f"{parent.full_name}/{name}" if parent else name
    category = Category.objects.create(organization=org, parent=parent, name=name, full_name=full)
    category.path = f"{parent.path if parent else '/'}{category.pk}/"
    category.save()
    return category


@pytest.fixture
def tree(org) -> dict[str, Category]:
    """The seven first-level classes of the toy data, and one subcategory."""
    out = {name: add_category(org, name) for name in CLASSES}
    out["城乡建设/物业管理"] = add_category(org, "物业管理", out["城乡建设"])
    return out
