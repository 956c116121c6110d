from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "huiyin.surveys"
    label = "surveys"
    verbose_name = "满意度调查与走访"
