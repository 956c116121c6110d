from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "huiyin.policy"
    label = "policy"
    verbose_name = "政策与时限"
