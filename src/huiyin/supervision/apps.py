from django.apps import AppConfig

from huiyin.core import exports
from huiyin.deadlines import subjects


class SupervisionConfig(AppConfig):
    name = "huiyin.supervision"
    label = "supervision"
    verbose_name = "督办与每日复查"

    def ready(self) -> None:
        from . import export  # apps not ready at AppConfig import: the board's source imports models
        from .subject import KIND, SupervisionNoticeSubject  # apps not ready at AppConfig import

        subjects.register(KIND, SupervisionNoticeSubject())
        exports.register("board", export.board_listing)
