from django.apps import AppConfig

from huiyin.core import exports


class EvaluationConfig(AppConfig):
    name = "huiyin.evaluation"
    label = "evaluation"
    verbose_name = "考评"

    def ready(self) -> None:
        from . import export  # apps not ready at AppConfig import: the table's source imports models

        exports.register("evaluation", export.evaluation_listing)
