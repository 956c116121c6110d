"""``huiyin demo``: the demo hotline centre, its staff and realistic cases."""

from __future__ import annotations

import os
import shutil
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from huiyin.cases import bus
from huiyin.cases.models import Case, Channel, Event
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import ApplicationError
from huiyin.demo.days import on
from huiyin.demo.desks import work_the_desks
from huiyin.demo.frontoffice import seed_front_office
from huiyin.demo.generator import (
    DEMO_CODE,
    DEMO_PASSWORD,
    DEMO_URL,
    DemoConflict,
    build_organization,
    demo_logins,
    generate_case_specs,
)
from huiyin.demo.history import populate
from huiyin.demo.knowledge import seed_knowledge
from huiyin.demo.models import DemoLoad
from huiyin.demo.outreach import seed_outreach
from huiyin.demo.reception import ReceptionPlan, finish_reception, plan_reception
from huiyin.orgs.models import Organization, Staff
from huiyin.policy.services import calendar_for, current_policy, organization_init
from huiyin.reception.models import Room
from huiyin.reports import rollups
from huiyin.reports.models import Report, ReportKind
from huiyin.reports.services import report_generate, report_request
from huiyin.supervision.models import NoticeKind
from huiyin.supervision.services import supervision_issue
from huiyin.surveys.models import Campaign


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


# The demo clusters hot issues and trains the routing model for an organisation up to this
# size (its own few hundred cases: seconds); a larger ledger is left to the triage commands.
DEMO_TRIAGE_MAX_CASES = 5_000


class Command(BaseCommand):
    help = "创建示范热线中心、工作人员、分类和示范案件 / Create the demo hotline centre, staff, categories and cases."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=400, help="number of demo cases (default 400)")
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="random seed (same seed, same cases; default: number of existing demo cases)",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=90,
            help="cases were received over this many days up to now, each with its own dated history (default 90)",
        )
        parser.add_argument(
            "--preset",
            default="city_hotline",
            help="policy preset the demo organisation runs under, or 'none' (default city_hotline)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (only print the logins) if the demo organisation already has cases",
        )

    def handle(self, *args, cases: int, seed: int | None, days: int, if_empty: bool, preset: str, **options):
        if cases < 0 or days < 1:
            raise CommandError("--cases must be >= 0 and --days >= 1")
        org = Organization.objects.filter(code=DEMO_CODE).first()
        if if_empty and org is not None and Case.objects.filter(organization=org).exists():
            count = Case.objects.filter(organization=org).count()
            last = DemoLoad.objects.filter(organization=org).order_by("-pk").first()
            if last is None or last.finished_at is not None:  # finished (or loaded before loads were kept)
                self.stdout.write(
                    f"示范单位“{org.name}”已有 {count} 件案件，未再生成。"
                    f" / The demo organisation already has {count} cases; nothing generated."
                )
                self.print_logins(Staff.objects.filter(organization=org).select_related("department"))
                return
            self.start_again(org, count)

        started = time.perf_counter()
        try:
            demo = build_organization()
        except DemoConflict as exc:
            raise CommandError(str(exc)) from exc
        self.activate_preset(demo.org, preset)
        load = DemoLoad.objects.create(organization=demo.org, started_at=timezone.now(), cases=cases)
        existing = Case.objects.filter(organization=demo.org).count()
        if seed is None:  # a second run adds different cases, not the same ones again
            seed = existing
        # Clustering and training are the demo's own for a demo-sized ledger only.
        demo_sized = existing + cases <= DEMO_TRIAGE_MAX_CASES
        end = timezone.now()
        specs = generate_case_specs(cases, seed=seed, start=end - timedelta(days=days), end=end)
        # Weeks of history, event by event: the roll-ups (and, for a demo-sized ledger, the
        # hot-issue clusters) are caught up once below instead of after every event.
        deferred = ["reports.rollups", *(["triage.hot_clusters"] if demo_sized else [])]
        # The front office first: under the company preset a booked visit is also in its visitor
        # log, and the front office's own visitors and guest reception are added only to an empty one.
        self.front_office(demo, now=end)
        # The reception's visits are booked before the weeks are played: each visitor's check-in
        # (a visit case registered) is played with the other cases, in time order, so it takes
        # its place in the day's numbering.
        reception = self.plan_reception(demo, now=end)
        with bus.deferred(*deferred):
            created = populate(demo, specs, now=end, seed=seed, stories=reception.arrivals if reception else ())
        self.supervise_some(demo, now=end)
        self.outreach(demo, now=end)
        rollups.catch_up()  # the dashboard's figures now, not when the task worker gets to them
        if reception is not None:
            self.finish_reception(demo, reception, now=end)
        self.knowledge(demo, now=end)
        self.report(demo, now=end)
        work_the_desks(demo.org.pk, now=end, seed=seed)  # last: after everything that leaves notices
        self.triage(demo.org, demo_sized=demo_sized)
        DemoLoad.objects.filter(pk=load.pk).update(finished_at=timezone.now())
        elapsed = time.perf_counter() - started

        self.stdout.write(
            self.style.SUCCESS(
                f"已生成 {created} 件示范案件，用时 {elapsed:.1f} 秒。 / "
                f"Created {created} demo cases in {elapsed:.1f} s."
            )
        )
        self.print_summary(demo.org)
        self.print_logins(demo.staff.values())

    def start_again(self, org: Organization, count: int) -> None:
        """The last load was stopped half-way: its cases' stories end wherever it stopped, and
        the surveys, reception, reports and desks that follow them were never made. On the
        embedded database holding nothing but the demo, the file (with the audit anchors and
        files written with it) is put aside and a fresh one migrated, so the load starts again;
        anywhere else nothing is removed and the command says what to do."""
        interrupted = (
            f"上次生成示范数据时被中断（已有 {count} 件案件，其余步骤未完成）。"
            f" / The last demo load was interrupted ({count} cases, the rest not done)."
        )
        database = Path(str(connection.settings_dict["NAME"]))
        embedded = connection.vendor == "sqlite" and database == Path(settings.DATA_DIR) / "huiyin.sqlite3"
        if not embedded or Organization.objects.exclude(pk=org.pk).exists():
            raise CommandError(
                f"{interrupted}\n请先清空数据库（huiyin flush）再运行 huiyin demo。"
                " / Empty the database (huiyin flush), then run huiyin demo again."
            )
        aside = Path(settings.DATA_DIR) / f"interrupted-demo-{timezone.now():%Y%m%d-%H%M%S}"
        aside.mkdir(mode=0o700)
        connection.close()
        moved = [database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(settings.MEDIA_ROOT)]
        moved.append(Path(settings.HUIYIN_AUDIT_ANCHOR_LOG or Path(settings.DATA_DIR) / "audit"))
        moved.append(Path(settings.HUIYIN_TRIAGE_DIR or Path(settings.DATA_DIR) / "triage"))
        for path in moved:
            if path.exists() and path.resolve().is_relative_to(Path(settings.DATA_DIR)):
                shutil.move(str(path), aside / path.name)
        self.stdout.write(f"{interrupted}\n已移至 / moved to {aside}，重新生成 / loading it again.")
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))  # personal data: the owner's only
        call_command("migrate", interactive=False, verbosity=0, skip_checks=True)

    def triage(self, org, *, demo_sized: bool) -> None:
        """Hot-issue clusters for every case, and a routing model trained on the demo's own
        closed cases, so a new user sees suggestions on the intake form (a few seconds for a
        few hundred cases; with too few closed cases per category the reason is printed and
        intake works without suggestions)."""
        from huiyin.triage import hot  # loaded here: the demo's other steps never need triage
        from huiyin.triage.services import train  # scikit-learn (heavy): only when the demo trains

        if not demo_sized:
            # Demo cases added to a large ledger (a benchmark's, a test's): clustering and
            # training over all of it is an administrator's job, not the demo's.
            total = Case.objects.filter(organization=org).count()
            self.stdout.write(
                f"未生成热点聚类、未训练分类模型：本单位已有 {total} 件（示范只处理 {DEMO_TRIAGE_MAX_CASES} 件以内）；"
                f"请运行 huiyin triage hot 与 huiyin triage train。 / "
                f"no hot-issue clusters or routing model: {total} cases (the demo does it up to "
                f"{DEMO_TRIAGE_MAX_CASES}); run `huiyin triage hot` and `huiyin triage train`."
            )
            return
        hot.catch_up(org.pk)
        started = time.perf_counter()
        try:
            result = train(org)
        except ApplicationError as exc:
            self.stdout.write(f"未训练分类模型 / no routing model trained: {exc.message}")
            return
        self.stdout.write(
            f"分类模型 v{result.model.version}（宏平均 F1 {result.metrics['macro_f1']}），"
            f"用时 {time.perf_counter() - started:.1f} 秒 / routing model trained"
        )

    def activate_preset(self, org, preset: str) -> None:
        """Deadlines, warnings and escalation run in the demo as in a real centre."""
        if preset == "none" or current_policy(org) is not None:
            return
        result = organization_init(preset_name=preset, code=org.code)
        label = result.policy_version.label or preset
        self.stdout.write(f"政策预设 / policy preset: {label}")

    def outreach(self, demo, *, now=None) -> None:
        """A satisfaction survey under way and the preset's engagement activities (once)."""
        if Campaign.objects.filter(organization=demo.org).exists():
            return
        counts = seed_outreach(demo.org.pk, demo.staff, now=now)
        self.stdout.write(
            f"满意度调查答卷 {counts['responses']} 份，走访座谈活动 {counts['activities']} 项。 / "
            f"{counts['responses']} survey answers, {counts['activities']} engagement activities."
        )

    def plan_reception(self, demo, *, now) -> ReceptionPlan | None:
        """A reception room, its hours, leader days and the visits booked (once); the visitors'
        check-ins are played with the cases (``ReceptionPlan.arrivals``)."""
        if Room.objects.filter(organization=demo.org).exists():
            return None
        return plan_reception(demo.org.pk, demo.staff, now=now)

    def finish_reception(self, demo, plan: ReceptionPlan, *, now) -> None:
        """The held leader day's record and a joint session for open cases."""
        c = finish_reception(demo.org.pk, demo.staff, plan, now=now)
        total = c["visits"] + c["coming"]
        self.stdout.write(
            f"来访预约 {total} 件（已到访 {c['arrived']}、未到访 {c['no_show']}、取消 {c['cancelled']}、"
            f"待来访 {c['coming']}），接待日与联合接访 {c['sessions']} 场。 / "
            f"{total} booked visits, {c['sessions']} reception sessions."
        )

    def knowledge(self, demo, *, now=None) -> None:
        """A handful of knowledge entries for the preset the demo runs under (once)."""
        policy = current_policy(demo.org)
        written = seed_knowledge(
            demo.org.pk, demo.staff["admin"], policy.preset_name if policy is not None else "", now=now
        )
        if written:
            self.stdout.write(f"知识库条目 {written} 条。 / {written} knowledge base entries.")

    def report(self, demo, *, now) -> None:
        """Last month's analysis report, asked for by the analyst (once), so the reports page
        a new user opens has one to read; its figures are those of the demo's own history."""
        if Report.objects.filter(organization=demo.org).exists():
            return
        rollups.catch_up()  # the reception's and front office's cases counted too
        last_month = timezone.localdate(now).replace(day=1) - timedelta(days=1)
        report = report_request(actor=demo.staff["analyst"], kind=ReportKind.MONTH, on=last_month)
        report_generate(report_id=report.pk)  # here, not when the task worker gets to it
        self.stdout.write(f"{last_month:%Y 年 %m 月}分析报告已生成。 / Last month's analysis report generated.")

    def front_office(self, demo, *, now=None) -> None:
        """Visitors and a guest reception, under the company front office preset (once)."""
        policy = current_policy(demo.org)
        if policy is None or policy.preset_name != "company_front_office":
            return
        done = seed_front_office(demo.org, demo.staff, now=now)
        if done.visitors or done.reception:
            self.stdout.write(
                f"访客登记 {done.visitors} 人次，公司接待 {1 if done.reception else 0} 次（申请至报销）。 / "
                f"{done.visitors} visitors, {1 if done.reception else 0} guest reception (request to reimbursement)."
            )
            for username, role, department in done.logins:
                self.stdout.write(f"  {username}  {role}  {department}  {DEMO_PASSWORD}")

    def supervise_some(self, demo, count: int = 3, *, now) -> None:
        """A few supervision notices on cases still being handled, so the board has work: the
        supervisor issued them over the last weeks (a weekday morning 1, 5, 9 days back, once
        the case was being handled), each with its feedback time still to come."""
        supervisor = demo.staff["supervisor"]
        calendar = calendar_for(organization_id=demo.org.pk, policy_version=current_policy(demo.org))
        open_cases = Case.objects.filter(organization=demo.org, state="in_progress", supervision_notices__isnull=True)
        for i, case in enumerate(open_cases.order_by("received_at")[:count]):
            day = timezone.localdate(now) - timedelta(days=1 + 4 * i)
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            # After the case's last recorded step (its history never runs backwards).
            last = Event.objects.filter(case=case).order_by("-at").values_list("at", flat=True).first()
            since = last or case.received_at
            at = on(day, 10, 7 * i)
            if at < since:  # the next office half-hour after it
                at = calendar.add_working_hours(timezone.localtime(since), timedelta(minutes=30))
            at = max(min(at, now - timedelta(minutes=1)), since)
            supervision_issue(
                actor=supervisor,
                case_id=case.pk,
                kind=NoticeKind.SPECIAL if i == 0 else NoticeKind.ROUTINE,
                department_id=case.lead_department_id,
                due_at=now + timedelta(days=2 + i),
                requirement="该件反映时间较长，请加快办理，按期反馈办理结果。",
                at=at,
            )

    def print_summary(self, org) -> None:
        qs = Case.objects.filter(organization=org)
        states = Counter(qs.values_list("state", flat=True))
        channels = Counter(qs.values_list("channel", flat=True))
        total = sum(states.values())
        self.stdout.write(f"\n{org.name}（{org.code}）共 {total} 件 / {total} cases in total")
        self.stdout.write(
            "按状态 / by state:   "
            + "  ".join(f"{CaseState(s).label} {states[s]}" for s in CaseState.values if states[s])
        )
        self.stdout.write(
            "按渠道 / by channel: "
            + "  ".join(f"{Channel(c).label} {channels[c]}" for c in Channel.values if channels[c])
        )

    def print_logins(self, staff) -> None:
        rows = demo_logins(staff)
        self.stdout.write("\n示范账号 / DEMO LOGINS（密码相同 / same password for all）")
        self.stdout.write(table(("用户名 username", "角色 role", "部门 department", "密码 password"), rows))
        self.stdout.write(f"\n打开 / Open {DEMO_URL}  （先运行 / first run: huiyin serve）")
        self.stdout.write("人员与部门管理 / Staff administration: " + DEMO_URL + "administration/staff/  (admin)")
