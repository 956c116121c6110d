from django.urls import path

from . import views

app_name = "reception"
urlpatterns = [
    path("", views.week, name="week"),
    path("day/", views.day_view, name="day"),
    path("schedule/", views.schedule_view, name="schedule"),
    path("rooms/", views.room_add, name="room_add"),
    path("rooms/<int:room_id>/", views.room_edit, name="room_edit"),
    path("hours/", views.hours_add, name="hours_add"),
    path("hours/<int:hours_id>/end/", views.hours_end, name="hours_end"),
    path("hours/<int:hours_id>/edit/", views.hours_edit, name="hours_edit"),
    path("leader-days/", views.leader_day_add, name="leader_day_add"),
    path("leader-days/<int:day_id>/", views.leader_day, name="leader_day"),
    path("leader-days/<int:day_id>/record/", views.leader_day_record, name="leader_day_record"),
    path("leader-days/<int:day_id>/cancel/", views.leader_day_cancel, name="leader_day_cancel"),
    path("joint/", views.joint_add, name="joint_add"),
    path("joint/<int:session_id>/", views.joint, name="joint"),
    path("joint/<int:session_id>/invite/", views.joint_invite, name="joint_invite"),
    path("joint/<int:session_id>/record/", views.joint_record, name="joint_record"),
    path("joint/<int:session_id>/cancel/", views.joint_cancel, name="joint_cancel"),
    path("book/", views.book, name="book"),
    path("appointments/<int:appointment_id>/", views.appointment, name="appointment"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel, name="cancel"),
    path("appointments/<int:appointment_id>/reschedule/", views.appointment_reschedule, name="reschedule"),
    path("appointments/<int:appointment_id>/no-show/", views.appointment_no_show, name="no_show"),
    path("appointments/<int:appointment_id>/check-in/", views.check_in, name="check_in"),
]
