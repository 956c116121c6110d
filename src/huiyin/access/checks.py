"""System checks for the access settings (``huiyin check``; ``--deploy`` adds the production ones)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from huiyin.orgs.roles import Cap

from .permissions import ADMIN_SITE


def rule_words() -> frozenset[str]:
    return frozenset(value for name, value in vars(Cap).items() if name.isupper()) | {ADMIN_SITE}


@checks.register(checks.Tags.security)
def second_factor_rule(app_configs, **kwargs) -> list[checks.CheckMessage]:
    unknown = sorted(set(settings.HUIYIN_REQUIRE_2FA_FOR) - rule_words())
    if unknown:
        return [
            checks.Error(
                f"HUIYIN_REQUIRE_2FA_FOR names unknown words: {', '.join(unknown)}",
                hint=f"Use capability names or {ADMIN_SITE!r}: {', '.join(sorted(rule_words()))}.",
                id="huiyin.access.E001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def second_factor_in_production(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not settings.HUIYIN_REQUIRE_2FA_FOR:
        return [
            checks.Warning(
                "HUIYIN_REQUIRE_2FA_FOR is empty: nobody must use a second factor, not even staff who can "
                "see personal data.",
                hint="Leave it unset with HUIYIN_PRODUCTION=1 (view_pii, administer, admin_site) or name the rights.",
                id="huiyin.access.W001",
            )
        ]
    return []
