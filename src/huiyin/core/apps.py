from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "huiyin.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
