from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "huiyin.supervision"
    label = "supervision"
    verbose_name = "督办与每日复查"

    def ready(self) -> None:
        from huiyin.deadlines import subjects

        from .subject import KIND, SupervisionNoticeSubject

        subjects.register(KIND, SupervisionNoticeSubject())
