"""System checks for personal data at rest (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def personal_data_keys(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """The development keys are derived from SECRET_KEY: changing it would make every
    encrypted personal field unreadable, so production names its own keys."""
    missing = [name for name in ("HUIYIN_FIELD_KEYS", "HUIYIN_LOOKUP_KEYS") if not getattr(settings, name, None)]
    if not missing:
        return []
    return [
        Warning(
            f"{' and '.join(missing)} not set: personal fields are encrypted under keys derived from SECRET_KEY.",
            hint="Set HUIYIN_FIELD_KEYS (Fernet keys, newest first) and HUIYIN_LOOKUP_KEYS (random secrets); "
            "see the README's production notes.",
            id="huiyin.W101",
        )
    ]
