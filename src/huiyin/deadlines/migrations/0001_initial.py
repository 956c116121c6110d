"""The deadline models, moved from ``policy``: state only. The tables exist already
(created by policy.0001_initial) and keep their names through ``db_table``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0006_handling_fields"),
        ("orgs", "0002_notify_complainants"),
        ("policy", "0002_deadline_models_moved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SweeperHeartbeat",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("worker_id", models.CharField(max_length=120, unique=True)),
                        ("started_at", models.DateTimeField()),
                        ("last_beat_at", models.DateTimeField()),
                        ("batches", models.BigIntegerField(default=0)),
                        ("actions", models.BigIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                    ],
                    options={
                        "verbose_name": "时限巡检进程",
                        "verbose_name_plural": "时限巡检进程",
                        "db_table": "policy_sweeperheartbeat",
                    },
                ),
                migrations.CreateModel(
                    name="Clock",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("round", models.PositiveIntegerField(default=1)),
                        ("stage", models.CharField(max_length=24, verbose_name="环节")),
                        ("rule", models.JSONField()),
                        ("unit", models.CharField(max_length=16)),
                        ("started_at", models.DateTimeField(verbose_name="起算时间")),
                        ("due_at", models.DateTimeField(verbose_name="到期时间")),
                        ("warn_at", models.DateTimeField(blank=True, null=True, verbose_name="预警时间")),
                        ("paused_at", models.DateTimeField(blank=True, null=True)),
                        ("paused_seconds", models.BigIntegerField(default=0)),
                        ("paused_units", models.BigIntegerField(default=0)),
                        ("stopped_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "stop_reason",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("done", "环节完成"),
                                    ("cancelled", "案件终止"),
                                    ("sent_back", "退单"),
                                    ("superseded", "规则变更"),
                                ],
                                max_length=12,
                            ),
                        ),
                        (
                            "state",
                            models.CharField(
                                choices=[("running", "计时中"), ("paused", "已暂停"), ("stopped", "已停止")],
                                default="running",
                                max_length=8,
                            ),
                        ),
                        ("warned_at", models.DateTimeField(blank=True, null=True)),
                        ("overdue_at", models.DateTimeField(blank=True, null=True)),
                        ("escalation_level", models.PositiveSmallIntegerField(default=0)),
                        ("generation", models.PositiveSmallIntegerField(default=0)),
                        ("next_action_at", models.DateTimeField(blank=True, null=True)),
                        ("version", models.PositiveIntegerField(default=1)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="clocks", to="cases.case"
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="orgs.organization"
                            ),
                        ),
                        (
                            "policy_version",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="policy.policyversion",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "时限",
                        "verbose_name_plural": "时限",
                        "db_table": "policy_clock",
                        "ordering": ["started_at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="ClockAction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[("warn", "预警"), ("overdue", "逾期"), ("escalate", "升级")], max_length=8
                            ),
                        ),
                        ("level", models.PositiveSmallIntegerField(default=0)),
                        ("role", models.CharField(blank=True, max_length=20)),
                        ("scheduled_for", models.DateTimeField()),
                        ("at", models.DateTimeField()),
                        ("worker_id", models.CharField(max_length=120)),
                        ("recipients", models.JSONField(blank=True, default=list)),
                        (
                            "clock",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="actions",
                                to="deadlines.clock",
                            ),
                        ),
                        (
                            "event",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="cases.event",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "时限处理记录",
                        "verbose_name_plural": "时限处理记录",
                        "db_table": "policy_clockaction",
                        "ordering": ["at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="Extension",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("amount", models.PositiveIntegerField(verbose_name="延长")),
                        ("unit", models.CharField(max_length=16)),
                        ("reason", models.TextField(verbose_name="延期理由")),
                        ("requested_at", models.DateTimeField()),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "待审批"), ("approved", "已批准"), ("rejected", "未批准")],
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("decision_note", models.TextField(blank=True)),
                        ("previous_due_at", models.DateTimeField(blank=True, null=True)),
                        ("new_due_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="cases.case"
                            ),
                        ),
                        (
                            "clock",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="extensions",
                                to="deadlines.clock",
                            ),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "延期申请",
                        "verbose_name_plural": "延期申请",
                        "db_table": "policy_extension",
                        "ordering": ["requested_at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="Suspension",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("round", models.PositiveIntegerField(default=1)),
                        ("reason", models.TextField(verbose_name="挂起原因")),
                        ("started_at", models.DateTimeField()),
                        ("ended_at", models.DateTimeField(blank=True, null=True)),
                        ("end_note", models.TextField(blank=True)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="suspensions", to="cases.case"
                            ),
                        ),
                        (
                            "ended_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "started_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "挂起",
                        "verbose_name_plural": "挂起",
                        "db_table": "policy_suspension",
                        "ordering": ["started_at", "id"],
                    },
                ),
                migrations.AddIndex(
                    model_name="clock",
                    index=models.Index(
                        condition=models.Q(("next_action_at__isnull", False)),
                        fields=["next_action_at"],
                        name="clock_next_action",
                    ),
                ),
                migrations.AddIndex(
                    model_name="clock",
                    index=models.Index(fields=["case", "round"], name="clock_case_round"),
                ),
                migrations.AddIndex(
                    model_name="clock",
                    index=models.Index(fields=["organization", "state", "due_at"], name="clock_org_state_due"),
                ),
                migrations.AddConstraint(
                    model_name="clock",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("state", "stopped"), _negated=True),
                        fields=("case", "round", "stage"),
                        name="clock_one_active_per_stage",
                    ),
                ),
                migrations.AddIndex(
                    model_name="clockaction",
                    index=models.Index(fields=["at"], name="clock_action_at"),
                ),
                migrations.AddConstraint(
                    model_name="clockaction",
                    constraint=models.UniqueConstraint(fields=("clock", "action", "level"), name="clock_action_once"),
                ),
                migrations.AddIndex(
                    model_name="extension",
                    index=models.Index(fields=["case", "status"], name="extension_case_status"),
                ),
                migrations.AddConstraint(
                    model_name="extension",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("clock",),
                        name="extension_one_pending_per_clock",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="suspension",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("ended_at__isnull", True)),
                        fields=("case",),
                        name="suspension_one_open_per_case",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
