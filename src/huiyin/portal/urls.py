from django.urls import path, re_path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    # A signed token always holds a ":" (value:time:signature): no organisation's pages match it.
    re_path(r"^c/(?P<token>[^/]*:[^/]*)/$", views.link, name="link"),
    path("<slug:org>/", views.home, name="home"),
    path("<slug:org>/privacy/", views.privacy, name="privacy"),
    path("<slug:org>/submit/", views.submit, name="submit"),
    path("<slug:org>/suggest/", views.suggest, name="suggest"),
    path("<slug:org>/receipt/", views.receipt, name="receipt"),
    path("<slug:org>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("<slug:org>/status/", views.status, name="status"),
    path("<slug:org>/case/", views.case_page, name="case"),
    path("<slug:org>/case/rate/", views.rate, name="rate"),
    path("<slug:org>/case/review/", views.review, name="review"),
    path("<slug:org>/case/letters/<int:document_id>.pdf", views.letter, name="letter"),
    path("<slug:org>/leave/", views.leave, name="leave"),
]
