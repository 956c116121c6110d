from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "huiyin.evaluation"
    label = "evaluation"
    verbose_name = "考评"
