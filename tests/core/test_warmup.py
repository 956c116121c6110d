"""The web worker's warm-up (``huiyin.core.warmup``, run by ``huiyin.wsgi``)."""

from __future__ import annotations

from django.template import engines
from django.template.loaders.cached import Loader as CachedLoader

from huiyin.core.warmup import template_names, warm_up


def test_the_warm_up_compiles_every_template_of_the_apps_into_the_cache():
    names = template_names()
    assert {"cases/ledger.html", "portal/base.html"} <= set(names), names[:10]
    engine = engines["django"].engine
    cached = [loader for loader in engine.template_loaders if isinstance(loader, CachedLoader)]
    assert cached, "the project renders through Django's cached template loader"
    cached[0].reset()
    warm_up()
    compiled = set(cached[0].get_template_cache)
    missing = [name for name in names if name not in compiled]
    assert not missing, f"templates the warm-up left to a worker's first request: {missing[:10]}"
