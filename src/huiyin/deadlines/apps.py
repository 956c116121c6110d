from django.apps import AppConfig

from . import subjects


class DeadlinesConfig(AppConfig):
    name = "huiyin.deadlines"
    label = "deadlines"
    verbose_name = "时限"

    def ready(self) -> None:
        from huiyin.policy.services.calendars import on_calendar_change  # apps not ready at AppConfig import

        from .services.actions import CaseStageSubject  # apps not ready at AppConfig import
        from .tasks import enqueue_clocks_recompute  # apps not ready at AppConfig import

        on_calendar_change(enqueue_clocks_recompute)
        subjects.register(subjects.CASE, CaseStageSubject())
        subjects.register(subjects.RECTIFICATION_TASK, CaseStageSubject())
