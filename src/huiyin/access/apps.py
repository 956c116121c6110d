from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "huiyin.access"
    label = "access"
    verbose_name = "登录与访问安全"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in  # apps not ready at AppConfig import

        from . import checks  # noqa: F401  (registers the system checks)
        from .sessions import note_login  # apps not ready at AppConfig import (loads models)

        user_logged_in.connect(note_login, dispatch_uid="huiyin.access.note_login")
