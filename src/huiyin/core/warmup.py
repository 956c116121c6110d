"""A web worker's first request, paid before it takes one (``huiyin.wsgi``).

A fresh worker process answers its first page in seconds where the next one takes a tenth:
every view module is imported when the URL configuration is first read, pypinyin loads its
dictionaries on the first picker, and each template is compiled on its first use (Django's
cached loader keeps it for the process). gunicorn loads the application in each worker
before the worker accepts a connection, so doing these there moves the wait from the first
person who opens a page to the worker's start. Nothing here touches the database.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

from .pinyin import search_key

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent.parent


def template_names() -> list[str]:
    """Every template of the project's apps, by the name views load it by."""
    names = []
    for folder in sorted(PACKAGE.glob("*/templates")):
        names += [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.suffix in (".html", ".txt")]
    return names


def warm_up() -> float:
    """Import the views, load the translations and the pinyin dictionaries, compile the
    templates. Returns the seconds it took."""
    started = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018 — reading it imports every urls and views module
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("受理")
    search_key("回音")  # pypinyin loads its dictionaries on first use
    engine = engines["django"]
    for name in template_names():
        try:
            engine.get_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError):  # a partial meant for another engine
            log.debug("warm-up: template %s not compiled", name)
    return time.perf_counter() - started
