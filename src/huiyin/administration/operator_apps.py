"""Django's admin as the platform operator's tool: ``INSTALLED_APPS`` names this config
instead of ``django.contrib.admin``, so ``admin.site`` is the superusers-only
:class:`~huiyin.administration.operator_site.OperatorAdminSite`.

Kept apart from the site: an app config is imported before the models are ready.
"""

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    default_site = "huiyin.administration.operator_site.OperatorAdminSite"
