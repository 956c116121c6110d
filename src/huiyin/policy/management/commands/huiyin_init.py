"""Set an organisation up from a policy preset.

    huiyin init --preset NAME [--org CODE] [--name NAME]
    huiyin init --preset path/to/custom.yaml --org CODE
    huiyin init --list

NAME is a file in the presets directory (settings.HUIYIN_PRESETS_DIR, else the
repository's presets/). The preset is validated before anything is written: an invalid
one is refused with its file, line and key, and the running policy stays.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huiyin.policy.presets import PresetError, list_presets, load_preset
from huiyin.policy.services import organization_init, presets_dir


class Command(BaseCommand):
    help = "Create or update an organisation and activate a policy preset for it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", help="preset name (see --list) or path to a preset YAML file")
        parser.add_argument("--org", dest="code", help="organisation code (created when new)")
        parser.add_argument("--name", help="organisation name (default: the preset's label)")
        parser.add_argument("--list", action="store_true", help="list the available presets")

    def handle(
        self,
        *args: Any,
        preset: str | None,
        code: str | None,
        name: str | None,
        list: bool,
        **options: Any,
    ) -> None:
        if list:
            directory = presets_dir()
            for stem in list_presets(directory):
                try:
                    label = load_preset(directory / f"{stem}.yaml").label
                except PresetError as exc:
                    label = f"(invalid: {exc})"
                self.stdout.write(f"{stem}\t{label}")
            return
        if not preset:
            raise CommandError("say which preset: --preset NAME (see --list)")
        try:
            result = organization_init(preset_name=preset, code=code, name=name)
        except PresetError as exc:
            raise CommandError(f"preset refused, nothing changed: {exc}") from exc
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        org, version = result.organization, result.policy_version
        verb = "created" if result.organization_created else "updated"
        policy = "new policy version" if result.version_created else "policy unchanged,"
        self.stdout.write(
            f"organisation {org.code} ({org.name}) {verb}; {policy} running {version.code}: {version.label}"
        )
