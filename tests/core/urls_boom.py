"""The site's URLs plus one view that fails: a server error for the error-page and logging tests."""

from django.urls import path

from huiyin.urls import handler500
from huiyin.urls import urlpatterns as site


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom), *site]
__all__ = ["handler500", "urlpatterns"]
