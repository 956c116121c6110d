from django.apps import AppConfig

from huiyin.core import exports


class CasesConfig(AppConfig):
    name = "huiyin.cases"
    label = "cases"
    verbose_name = "诉求件"

    def ready(self) -> None:
        # The subscriber table (settings.HUIYIN_EVENT_TABLE): loaded once, so a wrong row
        # fails at start-up rather than at the first event.
        from . import (
            bus,  # apps not ready at AppConfig import: the bus imports models
            export,  # apps not ready at AppConfig import: the lists' sources import models
        )

        bus.load_table()
        # The lists that export (core.exports): the ledger and the desk.
        exports.register("ledger", export.ledger_listing)
        exports.register("desk", export.desk_listing)
