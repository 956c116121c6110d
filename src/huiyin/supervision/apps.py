from django.apps import AppConfig

from huiyin.deadlines import subjects


class SupervisionConfig(AppConfig):
    name = "huiyin.supervision"
    label = "supervision"
    verbose_name = "督办与每日复查"

    def ready(self) -> None:
        from .subject import KIND, SupervisionNoticeSubject  # apps not ready at AppConfig import

        subjects.register(KIND, SupervisionNoticeSubject())
