from django.apps import AppConfig


class HandlingConfig(AppConfig):
    name = "huiyin.handling"
    label = "handling"
    verbose_name = "办理：派遣、调查、审批、整改、答复、复查复核"
