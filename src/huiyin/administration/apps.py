from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    name = "huiyin.administration"
    label = "administration"
    verbose_name = "人员与部门管理"

    def ready(self) -> None:
        # apps not ready at AppConfig import: the auth signals and the middleware load models
        from django.contrib.auth.signals import user_logged_in

        from .middleware import remember_password_change  # apps not ready at AppConfig import

        user_logged_in.connect(remember_password_change, dispatch_uid="huiyin.administration.password_change")
