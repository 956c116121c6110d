"""The matrix's world lives for a module (see test_matrix.world); its files stay where it put them,
and the run's figures are summed across xdist workers for the terminal summary."""

from __future__ import annotations

from collections import Counter

import pytest

_TOTALS: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _media_root():
    """Overrides the suite's per-test media directory: the world's files are the module's."""


def _stats() -> Counter[str]:
    from tests.authz import test_matrix

    return test_matrix.STATS


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the figures to the controller
        workeroutput["authz_stats"] = dict(_stats())


def pytest_testnodedown(node, error):
    _TOTALS.update(getattr(node, "workeroutput", {}).get("authz_stats", {}))


def pytest_terminal_summary(terminalreporter):
    totals = _TOTALS + _stats() if not _TOTALS else _TOTALS
    if totals.get("requests"):
        terminalreporter.write_line(
            "authorisation matrix: {patterns} URL patterns, {requests} requests, {refusals} refused, "
            "{fivexx} answered 5xx".format(fivexx=totals.get("5xx", 0), **{k: totals.get(k, 0) for k in ("patterns", "requests", "refusals")})
        )
