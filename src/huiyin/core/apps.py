from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "huiyin.core"
    label = "core"
    verbose_name = "基础"
