from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "huiyin.deadlines"
    label = "deadlines"
    verbose_name = "时限"

    def ready(self) -> None:
        from huiyin.policy.services.calendars import on_calendar_change

        from . import subjects
        from .services.actions import CaseStageSubject
        from .tasks import enqueue_clocks_recompute

        on_calendar_change(enqueue_clocks_recompute)
        subjects.register(subjects.CASE, CaseStageSubject())
        subjects.register(subjects.RECTIFICATION_TASK, CaseStageSubject())
