from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "huiyin.triage"
    label = "triage"
    verbose_name = "智能分类"
