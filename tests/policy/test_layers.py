"""policy is configuration only: it imports nothing from the apps built on it (grimp
counts lazy and type-checking imports too)."""

from __future__ import annotations

import grimp
import pytest

ALLOWED = ("huiyin.policy", "huiyin.orgs", "huiyin.core")
ABOVE = ("huiyin.cases", "huiyin.deadlines", "huiyin.supervision", "huiyin.followup", "huiyin.handling")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("huiyin")


def test_policy_imports_only_orgs_core_and_itself(graph: grimp.ImportGraph) -> None:
    bad = sorted(
        (module, imported)
        for module in graph.find_children("huiyin.policy") | graph.find_descendants("huiyin.policy")
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("huiyin.") and not imported.startswith(ALLOWED)
    )
    assert bad == []


@pytest.mark.parametrize("above", ABOVE)
def test_policy_reaches_no_app_above_it_by_itself(graph: grimp.ImportGraph, above: str) -> None:
    """No chain from policy to an app above it, except through core's own lazy imports
    of cases (core.errors, core.notify: core's business, not policy's)."""
    chains = graph.find_shortest_chains(importer="huiyin.policy", imported=above, as_packages=True)
    assert {c for c in chains if not c[1].startswith("huiyin.core.")} == set()


def test_policy_models_import_no_policy_service(graph: grimp.ImportGraph) -> None:
    """The import circle models -> services.versions -> models is gone."""
    assert not graph.find_shortest_chain(importer="huiyin.policy.models", imported="huiyin.policy.services.versions")
