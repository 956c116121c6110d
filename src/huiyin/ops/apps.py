from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "huiyin.ops"
    label = "ops"
    verbose_name = "运行状态"
