"""The public booking page, under /portal/ (``huiyin/urls.py``): the portal's pages, errors
and request limits apply (``public.py`` says why it lives in this app)."""

from django.urls import path

from . import portal_views

app_name = "reception_portal"
urlpatterns = [
    path("<slug:org>/appointments/", portal_views.book, name="book"),
    path("<slug:org>/appointments/done/", portal_views.done, name="done"),
    path("<slug:org>/appointments/manage/", portal_views.manage, name="manage"),
]
