"""Event kinds of callbacks and the complainant's own rating."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FollowupEvent(models.TextChoices):
    """What the callback desk records on a case's timeline."""

    RATING_LINK_ISSUED = "rating_link_issued", _("发送评价链接")
    NO_CONTACT = "callback_no_contact", _("无法回访")
