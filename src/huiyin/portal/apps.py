from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "huiyin.portal"
    label = "portal"
    verbose_name = "网上平台"
