from django.apps import AppConfig

from huiyin.core import exports


class FollowupConfig(AppConfig):
    name = "huiyin.followup"
    label = "followup"
    verbose_name = "回访"

    def ready(self) -> None:
        from huiyin.deadlines import subjects  # apps not ready at AppConfig import: they import models
        from huiyin.deadlines.services.actions import CaseStageSubject  # apps not ready: imports models

        from . import export  # apps not ready at AppConfig import: the queue's source imports models
        from .services import ANSWER_SUBJECT  # apps not ready at AppConfig import: services import models

        exports.register("callbacks", export.queue_listing)
        # An answer promised at a callback is timed and reported like a stage of its case.
        subjects.register(ANSWER_SUBJECT, CaseStageSubject())
