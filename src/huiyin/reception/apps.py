from django.apps import AppConfig

from huiyin.deadlines import subjects


class ReceptionConfig(AppConfig):
    name = "huiyin.reception"
    label = "reception"
    verbose_name = "来访接待"

    def ready(self) -> None:
        from .subject import KIND, AppointmentSubject  # apps not ready at AppConfig import

        subjects.register(KIND, AppointmentSubject())
