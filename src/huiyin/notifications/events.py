"""Event kinds of notifications and the e-mail channel."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationsEvent(models.TextChoices):
    CONTACT_PREFERENCE = "contact_preference", _("变更通知偏好")
