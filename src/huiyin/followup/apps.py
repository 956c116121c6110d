from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "huiyin.followup"
    label = "followup"
    verbose_name = "回访"
