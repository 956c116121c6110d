from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.board, name="board"),
    path("export.csv", views.board_export, {"fmt": "csv"}, name="board_csv"),
    path("export.xlsx", views.board_export, {"fmt": "xlsx"}, name="board_xlsx"),
    path("issue/", views.issue, name="issue"),
    path("notices/<int:notice_id>/", views.notice, name="notice"),
    path("notices/<int:notice_id>/answer/", views.answer, name="answer"),
    path("notices/<int:notice_id>/close/", views.close, name="close"),
    path("daily-review/", views.daily_review, name="daily_review"),
    path("daily-review/done/", views.daily_review_done, name="daily_review_done"),
]
