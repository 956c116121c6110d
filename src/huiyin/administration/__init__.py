"""The organisation's own administration (人员与部门): staff accounts and departments,
scoped to the administrator's organisation, every change audited. Django's /admin/ is
the platform operator's tool (superusers only, ``operator_site``)."""
