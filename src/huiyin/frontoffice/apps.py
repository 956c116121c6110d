from django.apps import AppConfig


class FrontOfficeConfig(AppConfig):
    name = "huiyin.frontoffice"
    label = "frontoffice"
    verbose_name = "前台与公司接待"
