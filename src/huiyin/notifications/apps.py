from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "huiyin.notifications"
    label = "notifications"
    verbose_name = "通知与邮件受理"
