from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "huiyin.cases"
    label = "cases"
    verbose_name = "诉求件"

    def ready(self) -> None:
        # The subscriber table (settings.HUIYIN_EVENT_TABLE): loaded once, so a wrong row
        # fails at start-up rather than at the first event.
        from . import bus  # apps not ready at AppConfig import: the bus imports models

        bus.load_table()
