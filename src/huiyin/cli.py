"""The ``huiyin`` command: a thin wrapper over Django management commands.

huiyin serve [--host H] [--port P] [--no-worker]   web + task worker + deadline sweeper, each restarted if it dies
huiyin tasks status | reap | retry ID                background tasks: failed, lost, retrying
huiyin demo [--cases N]                              demo organisation and cases
huiyin init --preset NAME                            (policy) set an organisation up from a preset
huiyin calendar ...                                  (policy) business calendar checks
huiyin audit verify | anchor                         (cases) prove the event chains; anchor their heads
huiyin reencrypt                                     personal fields under the newest key (after a key rotation)
huiyin retention apply [--dry-run]                   erase personal data past the preset's retention period
huiyin mail poll [--every SECONDS]                   the complaint mailbox (IMAP): new mail becomes cases
huiyin reports rebuild | catchup | status           (reports) the dashboard's roll-ups: rebuilt, or caught up
huiyin triage train [--data FILE.csv ...] | evaluate --data FILE.csv | rollback [--to V] | status
                                                     (triage) the routing model: train, measure, roll back
huiyin triage hot [--rebuild]                        (triage) hot-issue clusters: caught up, or rebuilt
huiyin <any Django management command> ...
"""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return

    command = {
        "serve": "huiyin_serve",
        "demo": "huiyin_demo",
        "init": "huiyin_init",
        "calendar": "huiyin_calendar",
        "audit": "huiyin_audit",
        "tasks": "huiyin_tasks",
        "reencrypt": "huiyin_reencrypt",
        "rotate_keys": "huiyin_reencrypt",
        "retention": "huiyin_retention",
        "mail": "huiyin_mail",
        "reports": "huiyin_reports",
        "triage": "huiyin_triage",
    }.get(argv[0], argv[0])
    execute_from_command_line(["huiyin", command, *argv[1:]])


if __name__ == "__main__":
    main()
