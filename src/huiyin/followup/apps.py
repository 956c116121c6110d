from django.apps import AppConfig

from huiyin.core import exports


class FollowupConfig(AppConfig):
    name = "huiyin.followup"
    label = "followup"
    verbose_name = "回访"

    def ready(self) -> None:
        from . import export  # apps not ready at AppConfig import: the queue's source imports models

        exports.register("callbacks", export.queue_listing)
