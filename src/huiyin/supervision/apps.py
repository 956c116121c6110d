from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "huiyin.supervision"
    label = "supervision"
    verbose_name = "督办与每日复查"

    def ready(self) -> None:
        from huiyin.deadlines.subjects import register_sweep

        from .sweeper import supervision_sweep

        register_sweep(supervision_sweep)  # run by the one huiyin_sweeper command
