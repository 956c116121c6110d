"""Demo history, day by day: every case's story told through the services at the time it
happened, so timelines, clocks, desks and month figures read like a real centre's.

``populate()`` turns each :class:`~huiyin.demo.generator.CaseSpec` into a story — a
generator that yields the moment of its next step and then takes it — and plays all the
stories together in time order, each step in its own transaction, passing its moment to
the service as ``at``:

* the hotline desk works round the clock: a call is registered during the call, accepted
  and dispatched within minutes; letters, e-mails and the online form are registered in
  office hours;
* departments work office hours on the business calendar's workdays (holidays and 调休
  included): they sign for, investigate and answer within the case's own time limits as a
  rule, and now and then late;
* the callback desk calls back in office hours and closes (or, dissatisfied, reopens) the
  case; the leader archives finished cases weeks later;
* between steps the deadline sweeper runs at the moment each clock's next step falls due,
  so warnings, overdue notices and escalations happen (and reach desks) when they would
  have;
* a step whose moment is after ``now`` does not happen: recent cases are still open, some
  warned, some overdue, and nothing is dated later than now.

Side effects (desk reminders) run at once during the replay, at the moment of their event.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.test.utils import override_settings
from django.utils import timezone

from huiyin.cases import services as svc
from huiyin.cases.inputs import PartyInput
from huiyin.cases.models import Case
from huiyin.cases.workflow import CaseState, Stage, required_step, stages_with_defaults
from huiyin.deadlines.models import Clock, ClockState
from huiyin.deadlines.sweeper import sweep_until_idle
from huiyin.followup import services as followup
from huiyin.followup.models import AttemptOutcome, Callback, CallbackStatus, PromisedAnswer
from huiyin.handling import actions as handling_actions
from huiyin.handling import services as handling_services
from huiyin.handling import steps as handling_steps
from huiyin.handling.records import approval_chain, preset_of, refusal_forbidden
from huiyin.orgs.models import Department, Staff
from huiyin.policy.calendar import BusinessCalendar
from huiyin.policy.services import calendar_for, current_policy

from . import texts
from .generator import LIFECYCLE, CaseSpec, DemoOrg, PartySpec, _Cast

# Side effects of each step happen with it (at its moment), not in a worker afterwards.
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
LATE = 0.07  # the share of department steps that miss their time limit
STALE = timedelta(days=7)  # a case left at its target past a limit by more than this goes on
STUCK = 2  # ...but for this many, the centre's long-overdue matters
# The states in which a repeat call about the matter (urging, asking how far it got, adding
# to it) is recorded on its case: while it is waiting or being handled.
REPEAT_WHILE = frozenset(
    {
        CaseState.REGISTERED,
        CaseState.ACCEPTED,
        CaseState.DISPATCHED,
        CaseState.IN_PROGRESS,
        CaseState.PENDING_APPROVAL,
        CaseState.APPROVED,
    }
)
# One answered case in this many (of those generated to stay answered) is of a complainant the
# callback desk cannot reach: its attempts are recorded, the last marks it unreachable.
UNREACHABLE_EVERY = 6
UNREACHABLE_WITHIN = timedelta(days=21)
# Answers promised at callbacks (回访中不能当即答复的，应告知预约时间答复): one in a fortnight of
# the demo's past at most — a share of a fortnight's callbacks asks something, until one has —
# answered by the promised time, the one of the fortnight before last late; and of the last
# days' callbacks one whose promised time has passed unanswered (overdue now, by at most
# two working days) and one whose promised time is still to come.
PROMISE_SHARE = 0.3
PROMISE_PERIOD = timedelta(days=14)
PROMISE_OVERDUE = timedelta(hours=16)  # working time: two office days

# A story yields the moment of its next step and receives it back when the replay gets there.
Story = Generator[datetime, datetime, None]


@dataclass
class _Case:
    """What the stories of one spec share: its case once registered."""

    spec: CaseSpec
    rng: random.Random
    registers_at: datetime | None = None  # when its registration is due to happen
    case_id: int | None = None
    round: int = 1


@dataclass(frozen=True)
class _Promise:
    """An answer promised at a callback: the question, the promised time, what the
    department answers and when (None: not answered by the end of the demo)."""

    question: str
    answer_by: datetime
    answer: str
    answer_at: datetime | None


@dataclass(order=True)
class _Entry:
    at: datetime
    seq: int
    story: Story = field(compare=False)


class Replay:
    """All stories of one run, played in time order up to ``end``."""

    def __init__(self, demo: DemoOrg, end: datetime, seed: int = 0):
        self.demo, self.end = demo, end
        self.cast = _Cast(demo)
        policy = current_policy(demo.org)
        self.calendar: BusinessCalendar = calendar_for(organization_id=demo.org.pk, policy_version=policy)
        # The kinds of complainant the policy has the intake record (the hospital's 门诊 / 住院),
        # each received by its own office, which the demo organisation then has.
        self.kinds = _receiving_offices(demo, policy.preset() if policy is not None else None)
        self.heap: list[_Entry] = []
        self.seq = itertools.count()
        self.clock: datetime | None = None  # the replay's present: the last moment played
        self.created = 0
        self.seed = seed
        self.stuck = 0  # cases left far past a time limit (``_halts``)
        self.promised: set[str | int] = set()  # the kinds of promise made, and the fortnights with one

    # --- scheduling ------------------------------------------------------------------

    def add(self, spec: CaseSpec) -> None:
        state = _Case(spec=spec, rng=random.Random(f"{self.seed}:{spec.index}:{spec.received_at.isoformat()}"))
        story = self._case_story(state)
        self._push(next(story), story)
        for contact in spec.repeat_contacts:
            repeat = self._repeat_story(state, contact.channel, contact.text, contact.occurred_at)
            self._push(next(repeat), repeat)

    def add_story(self, story: Story) -> None:
        """Another story of the same past (a visitor checking in at the reception desk), played
        in time order with the cases' so that it takes its place in the day's numbering."""
        first = next(story, None)
        if first is not None:
            self._push(first, story)

    def _push(self, at: datetime, story: Story) -> None:
        heapq.heappush(self.heap, _Entry(at, next(self.seq), story))

    def run(self) -> int:
        with override_settings(TASKS=IMMEDIATE_TASKS):
            while self.heap:
                entry = heapq.heappop(self.heap)
                if entry.at > self.end:
                    entry.story.close()  # its next step has not happened yet
                    continue
                self._sweep_to(entry.at)
                self.clock = max(self.clock or entry.at, entry.at)
                with transaction.atomic():
                    # The story's last step ends it: caught inside, so the step commits.
                    after = next_step(entry.story, self.clock)
                if after is not None:
                    self._push(max(after, self.clock + timedelta(seconds=1)), entry.story)
            self._sweep_to(self.end)
        return self.created

    def _sweep_to(self, moment: datetime) -> None:
        """The sweeper at each moment a clock's next step fell due, up to ``moment``."""
        org_id = self.demo.org.pk
        for _pass in range(100_000):
            due = Clock.objects.filter(organization_id=org_id, next_action_at__lte=moment).aggregate(
                m=Min("next_action_at")
            )["m"]
            if due is None:
                return
            at = max(due, self.clock or due)
            result = sweep_until_idle(now=at, history=True, organization_id=org_id)
            self.clock = at
            if not result.processed:
                return  # nothing could be taken (a clock failing): the live sweeper retries it

    # --- time -------------------------------------------------------------------------

    def office(self, at: datetime, rng: random.Random, low: float, high: float) -> datetime:
        """``at`` plus low…high hours of working time: office hours on the calendar's workdays."""
        hours = low + (high - low) * rng.random()
        return self.calendar.add_working_hours(timezone.localtime(at), timedelta(hours=hours))

    @staticmethod
    def desk(at: datetime, rng: random.Random, low: float, high: float) -> datetime:
        """``at`` plus low…high minutes: the hotline desk answers round the clock."""
        return at + timedelta(minutes=low + (high - low) * rng.random())

    def paced(self, at: datetime, rng: random.Random, low: float, high: float, due: datetime | None) -> datetime:
        """A department's next step: low…high working hours later, within the time limit
        ``due`` as a rule; now and then (``LATE``) after it."""
        step = self.office(at, rng, low, high)
        if due is None or due <= at:
            return step
        if rng.random() < LATE:  # late: some while after the limit, in office hours
            return self.office(max(step, due + (due - at) * (0.05 + 0.5 * rng.random())), rng, 0.02, 0.5)
        if step < due:
            return step
        left = self._working_time(at, due)
        if left > timedelta(0):
            return self.calendar.add_working_hours(timezone.localtime(at), left * (0.3 + 0.6 * rng.random()))
        return self.office(at, rng, 0.1, 1)  # no office hours left before the limit: late

    @staticmethod
    def due(case_id: int, *stages: str) -> datetime | None:
        """The nearest due time of the case's running clocks of these stages."""
        return (
            Clock.objects.filter(case_id=case_id, stage__in=stages, state=ClockState.RUNNING)
            .aggregate(m=Min("due_at"))
            .get("m")
        )

    # --- stories ------------------------------------------------------------------------

    def _registration_time(self, spec: CaseSpec, rng: random.Random) -> datetime:
        received = spec.received_at
        if spec.channel == "phone":
            at = self.desk(received, rng, 1, 5)  # typed in during the call
        elif spec.channel == "visit":
            at = self.desk(received, rng, 5, 25)
        else:  # letters, e-mail, the online form, forwarded files: the next office hours
            at = self.office(received, rng, 0.1, 3)
        return max(received, min(at, self.end))

    def _case_story(self, state: _Case) -> Story:
        spec, rng, cast = state.spec, state.rng, self.cast
        clerk = cast.clerks[spec.index % len(cast.clerks)]
        registrar = cast.reception if spec.channel == "visit" and cast.reception else clerk
        method = (
            "in_person" if spec.channel == "visit" else "letter" if spec.channel in ("letter", "forwarded") else "phone"
        )
        state.registers_at = self._registration_time(spec, rng)
        at = yield state.registers_at
        data = _intake(self.demo, spec)
        if self.kinds:  # by the spec's number: no draw, the generated sequence stays as it was
            data.complainant_kind = self.kinds[spec.index % len(self.kinds)]
        case, _code = svc.case_register(actor=registrar, data=data, at=at)
        state.case_id = case.pk
        self.created += 1
        cid, target = case.pk, spec.target_state
        if target == "registered":
            return
        # The desk decides at once on a call or a visit, within office hours on paper.
        on_desk = spec.channel in ("phone", "visit")

        def decided(after: datetime) -> datetime:
            return self.desk(after, rng, 1, 4) if on_desk else self.office(after, rng, 0.2, 4)

        # Where the policy names who alone accepts this channel (the office's website staff
        # accept online complaints), they take the acceptance decision; the desk the rest.
        acceptor = cast.acceptor(case, clerk)
        if spec.decision in ("not_accept", "return", "transfer"):
            at = yield decided(at)
            _decide(case, spec, acceptor, at)
            if target == "archived":
                at = yield self.office(at, rng, 8 * 10, 8 * 25)
                svc.case_archive(actor=cast.leader, case_id=cid, at=at)
            return
        if spec.decision == "answer_on_spot":
            at = yield self.desk(at, rng, 1, 8)
            svc.case_answer_on_spot(actor=registrar, case_id=cid, reply=spec.reply, method=method, at=at)
            if target in ("closed", "archived") or self._calls_back(state):
                unreachable = target not in ("closed", "archived") and self._unreachable(state)
                at = yield from self._callback(state, at, satisfied=True, unreachable=unreachable)
                if target == "archived":
                    at = yield self.office(at, rng, 8 * 10, 8 * 25)
                    svc.case_archive(actor=cast.leader, case_id=cid, at=at)
            return
        # Accepted: one handling round, or two when the first answer left the caller dissatisfied.
        stages = stages_with_defaults(case.stage_switches)
        if stages[Stage.ACCEPTANCE]:
            at = yield decided(at)
            svc.case_accept(actor=acceptor, case_id=cid, at=at)  # else: taken on dispatch (首问负责)
            _tell_in_writing(case, acceptor, "acceptance_notice", at)
        department = self.demo.routing[spec.category]
        final = "closed" if target == "archived" else target
        if spec.reopened:
            at = yield from self._round(state, clerk, department, "replied", stages, method, at, first=True)
            at = yield from self._callback(state, at, satisfied=False)
            state.round += 1
            at = yield from self._round(state, clerk, department, final, stages, method, at, first=False)
        else:
            at = yield from self._round(state, clerk, department, final, stages, method, at, first=True)
        # The round got as far as the answer (its target, or past it): the callback closes it.
        if final == "closed" or (_state(cid) == CaseState.REPLIED and self._calls_back(state)):
            unreachable = final != "closed" and self._unreachable(state)
            at = yield from self._callback(state, at, satisfied=True, unreachable=unreachable)
            if target == "archived":
                at = yield self.office(at, rng, 8 * 10, 8 * 25)
                svc.case_archive(actor=cast.leader, case_id=cid, at=at)

    def _round(
        self,
        state: _Case,
        clerk: Staff,
        department: Department,
        final: str,
        stages: dict[str, bool],
        method: str,
        at: datetime,
        *,
        first: bool,
    ) -> Generator[datetime, datetime, datetime]:
        """One handling round from 'accepted' up to ``final`` (a LIFECYCLE state, not 'closed':
        closing is the callback's); returns the moment of its last step."""
        spec, rng, cast = state.spec, state.rng, self.cast
        cid = state.case_id
        assert cid is not None
        stop = LIFECYCLE.index(final)
        index = spec.index if first else spec.index + 1  # a reopened case may go to a colleague

        def dispatched(after: datetime) -> datetime:
            # Under a dispatch time limit (96310: three minutes) the desk keeps it, as a rule.
            due = self.due(cid, "dispatch", "handover")
            if spec.channel in ("phone", "visit") or due is not None:
                step = self.desk(after, rng, 0.5, 2.5)
                if due is not None and rng.random() < LATE:
                    return max(step, due + timedelta(minutes=1 + 6 * rng.random()))
                return min(step, due - timedelta(seconds=10)) if due is not None and due > after else step
            return self.office(after, rng, 0.1, 2)

        if first and spec.misrouted_to and stages[Stage.SIGN_FOR]:  # without sign-for nothing can be sent back
            wrong = self.demo.departments[spec.misrouted_to]
            wrong_handler = cast.handler(wrong, index)
            at = yield dispatched(at)
            handling_actions.case_dispatch(
                actor=clerk, case_id=cid, department_id=wrong.pk, handler_id=wrong_handler.pk, at=at
            )
            at = yield self.paced(at, rng, 0.3, 3, self.due(cid, "sign_for"))
            handling_actions.case_send_back(
                actor=wrong_handler,
                case_id=cid,
                reason=texts.SEND_BACK_REASONS[index % len(texts.SEND_BACK_REASONS)],
                at=at,
            )
        if self._halts(state, stop, "dispatched"):
            return at
        handler = cast.handler(department, index)
        at = yield dispatched(at)
        handling_actions.case_dispatch(
            actor=clerk,
            case_id=cid,
            department_id=department.pk,
            handler_id=handler.pk,
            instructions=texts.DISPATCH_INSTRUCTIONS[index % len(texts.DISPATCH_INSTRUCTIONS)],
            at=at,
        )
        if self._halts(state, stop, "in_progress"):
            return at
        if stages[Stage.SIGN_FOR]:
            at = yield self.paced(at, rng, 0.2, 4, self.due(cid, "sign_for"))
            handling_actions.case_sign_for(actor=handler, case_id=cid, at=at)
        if self._halts(state, stop, "pending_approval"):
            return at
        answer_due = self.due(cid, "reply", "overall", "first_contact")
        if stages[Stage.APPROVAL]:
            at = yield self.paced(at, rng, 4, 36, answer_due)
            if required_step(Case.objects.get(pk=cid).stage_switches, "signed_investigation"):
                # the interviewee signs the record before the proposal goes to approval
                handling_services.investigation_add(
                    actor=handler,
                    case_id=cid,
                    kind="interview",
                    text=texts.INVESTIGATIONS[index % len(texts.INVESTIGATIONS)],
                    interviewee="被调查单位负责人",
                    signature_drawn=DEMO_SIGNATURE,
                    at=at,
                )
            handling_actions.case_submit_for_approval(
                actor=handler,
                case_id=cid,
                proposal="拟答复如下：" + spec.reply,
                outcome=texts.OUTCOMES[index % len(texts.OUTCOMES)],
                responsible_unit=texts.RESPONSIBLE_UNITS[index % len(texts.RESPONSIBLE_UNITS)],
                at=at,
            )
            if self._halts(state, stop, "replied"):
                return at
            for role in approval_chain(Case.objects.get(pk=cid)):
                signer = cast.heads.get(department.pk, cast.leader) if role == "dept_head" else cast.leader
                at = yield self.office(at, rng, 0.3, 6)
                handling_actions.case_approve(actor=signer, case_id=cid, comments="同意。", at=at)
            at = yield self.office(at, rng, 0.2, 3)
        elif self._halts(state, stop, "replied"):
            return at  # no approval stage: the case stays with the handler
        else:
            at = yield self.paced(at, rng, 6, 56, answer_due)
        remedy = _steps_before_reply(cid, handler, index, at)
        svc.case_reply(actor=handler, case_id=cid, reply=spec.reply, method=method, remedy=remedy, at=at)
        return at

    def _halts(self, state: _Case, stop: int, step: str) -> bool:
        """Whether the story ends before ``step``: when its target (``LIFECYCLE[stop]``) comes
        first — unless the case would then sit past a time limit by more than ``STALE`` by
        now. A centre does not leave dozens of matters weeks past their limits: such a case
        goes on, late; the first ``STUCK`` stay, the long-overdue ones the board supervises."""
        if stop >= LIFECYCLE.index(step):
            return False
        assert state.case_id is not None  # registered: the story's first step
        due = (
            Clock.objects.filter(case_id=state.case_id, subject_kind="case", state=ClockState.RUNNING)
            .aggregate(m=Min("due_at"))
            .get("m")
        )
        if due is None or self.end - due <= STALE:
            return True
        if self.stuck < STUCK:
            self.stuck += 1
            return True
        return False

    def _calls_back(self, state: _Case) -> bool:
        """Whether the callback desk goes on to call an answered case back. Where a callback
        is planned, always: a working centre calls back within the preset's limit, so only the
        cases answered in the last days wait on its queue (the call's moment is after the end
        of the demo); without one, the answered case stays as generated (``_halts``)."""
        assert state.case_id is not None
        planned = Callback.objects.filter(case_id=state.case_id, round=state.round, status=CallbackStatus.DUE)
        return planned.exists() or not self._halts(state, 0, "closed")

    def _unreachable(self, state: _Case) -> bool:
        """One answered case in ``UNREACHABLE_EVERY`` (of those generated to stay answered)
        whose complainant the desk cannot reach, by the spec's number (no draw); only of the
        last ``UNREACHABLE_WITHIN``: the case of an unreachable complainant stays answered, its
        clock running (closing takes the callback's rating), and would otherwise sit weeks
        overdue, where a centre has long since found another way to reach them."""
        return (
            state.spec.index % UNREACHABLE_EVERY == UNREACHABLE_EVERY - 1
            and self.end - state.spec.received_at < UNREACHABLE_WITHIN
        )

    def _callback(
        self, state: _Case, at: datetime, *, satisfied: bool, unreachable: bool = False
    ) -> Generator[datetime, datetime, datetime]:
        """The callback desk calls the complainant back (where a callback was planned) and
        closes the case, or — dissatisfied — the case is reopened; or, ``unreachable``, tries
        the preset's number of times without reaching them (the case stays answered, the
        attempts recorded); returns the last moment."""
        spec, rng, cast = state.spec, state.rng, self.cast
        cid = state.case_id
        assert cid is not None
        row = Callback.objects.filter(case_id=cid, round=state.round, status=CallbackStatus.DUE).first()
        when = self.paced(at, rng, 1, 20, row.due_at if row is not None else None)
        if row is not None and row.due_at is not None and when > self.end >= row.due_at:
            # Late, and so not yet made by the end of the demo: a case past its callback limit
            # with not even an attempt is not what a working desk leaves; it called in time.
            when = max(at + timedelta(minutes=10), row.due_at - timedelta(minutes=20))
        at = yield when
        if row is not None and unreachable:
            for attempt in range(1, followup.MAX_ATTEMPTS + 1):
                followup.callback_record(
                    actor=cast.callback, callback_id=row.pk, outcome=AttemptOutcome.NOT_REACHED, at=at
                )
                if attempt < followup.MAX_ATTEMPTS:
                    at = yield self.office(at, rng, 2, 6)
            return at
        note = texts.CALLBACK_NOTES[spec.index % len(texts.CALLBACK_NOTES)]
        if row is None:
            if satisfied:
                svc.case_close(
                    actor=cast.callback,
                    case_id=cid,
                    satisfaction=spec.satisfaction or "satisfied",
                    callback_note=note,
                    confirmed=True,
                    confirmation_note="反映人电话确认处理结果。",
                    at=at,
                )
            else:
                svc.case_reopen(
                    actor=cast.callback,
                    case_id=cid,
                    reason=texts.REOPEN_REASONS[spec.index % len(texts.REOPEN_REASONS)],
                    at=at,
                )
            return at
        if rng.random() < 0.15:  # no answer the first time: tried again a couple of hours later
            followup.callback_record(actor=cast.callback, callback_id=row.pk, outcome=AttemptOutcome.NOT_REACHED, at=at)
            at = yield self.office(at, rng, 2, 5)
        reason = texts.REOPEN_REASONS[spec.index % len(texts.REOPEN_REASONS)]
        promise = self._promise(state, at) if satisfied else None
        followup.callback_record(
            actor=cast.callback,
            callback_id=row.pk,
            outcome=AttemptOutcome.REACHED,
            satisfaction=(spec.satisfaction or "satisfied") if satisfied else "dissatisfied",
            findings=(note or "反映人认可处理结果。") if satisfied else reason,
            pending_question=promise.question if promise else "",
            answer_by=promise.answer_by if promise else None,
            at=at,
        )
        if promise is not None and promise.answer_at is not None:
            made = PromisedAnswer.objects.filter(callback_id=row.pk).order_by("-pk").first()
            assert made is not None  # recorded with the callback just now
            answer = self._answer_story(state, made, promise)
            self._push(next(answer), answer)
        if not satisfied and _state(cid) == CaseState.REPLIED:  # the preset lets the department head decide
            case = Case.objects.get(pk=cid)
            head = cast.heads.get(case.lead_department_id or 0, cast.leader)
            at = yield self.office(at, rng, 0.5, 6)
            followup.dissatisfaction_decide(
                actor=head, callback_id=row.pk, decision="reopen", note="反映人仍不满意，重新办理。", at=at
            )
        return at

    def _promise(self, state: _Case, at: datetime) -> _Promise | None:
        """Whether the complainant, reached at ``at`` and satisfied, asks something that cannot
        be answered on the call (see ``PROMISE_SHARE``), and if so the promise. Its own draws:
        the rest of the case's story stays as generated."""
        cid = state.case_id
        assert cid is not None  # called back: registered long ago
        lead = Case.objects.filter(pk=cid).values_list("lead_department_id", flat=True).get()
        if lead is None or (lead not in self.cast.handlers and lead not in self.cast.heads):
            return None  # answered on the spot: no department to answer the question
        end, rng = self.end, random.Random(f"{self.seed}:promise:{state.spec.index}:{state.round}")
        category = state.spec.category
        pairs = next(
            texts.PROMISED_ANSWERS[key]
            for key in (category, category.split("/", 1)[0], "")
            if key in texts.PROMISED_ANSWERS
        )
        question, answer = pairs[state.spec.index % len(pairs)]
        soon, latest = self._promised_time(at, 1), self._promised_time(at, 3)
        if "overdue" not in self.promised and soon <= end and self._working_time(soon, end) <= PROMISE_OVERDUE:
            self.promised.add("overdue")
            return _Promise(question, soon, answer, None)
        if "open" not in self.promised and latest > end:
            self.promised.add("open")
            return _Promise(question, latest, answer, None)
        fortnight = int((end - at) / PROMISE_PERIOD)
        if fortnight < 1 or fortnight in self.promised or rng.random() >= PROMISE_SHARE:
            return None
        by = self._promised_time(at, 1 + int(rng.random() * 2))
        if fortnight == 1:  # answered a few office hours after the promised time
            answer_at = self.office(by, rng, 1, 6)
        else:
            left = self._working_time(at, by)
            answer_at = self.calendar.add_working_hours(timezone.localtime(at), left * (0.3 + 0.6 * rng.random()))
            answer_at = min(answer_at, by - timedelta(minutes=5))
        if not at < answer_at < end:
            return None
        self.promised.add(fortnight)
        return _Promise(question, by, answer, answer_at)

    def _working_time(self, a: datetime, b: datetime) -> timedelta:
        return self.calendar.working_time_between(timezone.localtime(a), timezone.localtime(b))

    def _promised_time(self, at: datetime, workdays: int) -> datetime:
        """The time told to the complainant: ``workdays`` working days on, on the hour after."""
        by = self.calendar.add_working_hours(timezone.localtime(at), timedelta(hours=8 * workdays))
        return by.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)

    def _answer_story(self, state: _Case, promise: PromisedAnswer, planned: _Promise) -> Story:
        """The lead department's handler records the answer promised at the callback."""
        at = yield planned.answer_at or self.end
        assert promise.department_id is not None  # promised only where a department leads (``_promise``)
        handler = self.cast.handler(Department.objects.get(pk=promise.department_id), state.spec.index)
        followup.promised_answer_give(actor=handler, promise_id=promise.pk, answer=planned.answer, at=at)

    def _repeat_story(self, state: _Case, channel: str, text: str, occurred: datetime) -> Story:
        """A repeat call or visit about the case, recorded when it came in."""
        at = yield occurred
        assert state.registers_at is not None  # the case's story was started first (Replay.add)
        if state.case_id is None:  # it came in before the matter was registered: recorded right after
            at = yield max(at, state.registers_at) + timedelta(minutes=2)
        if state.case_id is None or _state(state.case_id) not in REPEAT_WHILE:
            # A call urging a matter already answered or decided would contradict its history
            # (and archived cases are read-only): such a call became a new matter.
            return
        clerk = self.cast.clerks[state.spec.index % len(self.cast.clerks)]
        svc.contact_add(actor=clerk, case_id=state.case_id, channel=channel, text=text, occurred_at=at, at=at)


def next_step(story: Story, at: datetime) -> datetime | None:
    """Take the story's step due at ``at``; the moment of its next step, or None when it ended."""
    try:
        return story.send(at)
    except StopIteration:
        return None


def _state(case_id: int) -> str:
    return Case.objects.filter(pk=case_id).values_list("state", flat=True).get()


def _party_input(p: PartySpec) -> PartyInput:
    # A copy: validation normalises the input in place, the spec stays as generated.
    return replace(p)


def _visitor(p: PartyInput) -> PartyInput:
    """A caller who has called before and now comes in person: the visit register asks for
    the work unit and age the phone did not (``intake.visit_fields``); derived, no draw."""
    if p.name and not p.affiliation:
        p.affiliation = "无"
    if p.name and p.age is None:
        p.age = 18 + sum(map(ord, p.name)) % 60
    return p


def _intake(demo: DemoOrg, spec: CaseSpec) -> svc.IntakeInput:
    party = _party_input(spec.party)
    return svc.IntakeInput(
        channel=spec.channel,
        nature=spec.nature,
        title=spec.title,
        text=spec.text,
        party=_visitor(party) if spec.channel == "visit" else party,
        category_id=demo.categories[spec.category].pk,
        urgency=spec.urgency,
        location=spec.location,
        received_at=spec.received_at,
        group_size=spec.group_size,
        representatives=[_party_input(p) for p in spec.representatives],
        forwarded_by=spec.forwarded_by,
        forwarded_ref=spec.forwarded_ref,
        new_matter=True,  # each spec is its own matter; repeat calls are its repeat_contacts
    )


def _receiving_offices(demo: DemoOrg, preset: Any) -> list[str]:
    """The codes of the preset's kinds of complainant, after making sure the demo
    organisation has the office that receives each (``intake.complainant_kinds``: the
    hospital's 门诊部 and 医务科)."""
    kinds = preset.intake.complainant_kinds if preset is not None else ()
    for kind in kinds:
        office, _created = Department.objects.get_or_create(
            organization=demo.org,
            code=kind.department,
            defaults={"name": kind.department_label or kind.department, "handles_cases": True},
        )
        demo.departments.setdefault(kind.department, office)
    return [kind.code for kind in kinds]


def _decide(case: Case, spec: CaseSpec, clerk: Staff, at: datetime) -> None:
    """Not accepted, returned or transferred, by the preset's grounds and rules."""
    cid = case.pk
    if spec.decision in ("not_accept", "return") and refusal_forbidden(case):
        # 首诉负责 (hospital): a complaint is never refused; one outside its remit is transferred.
        handling_actions.case_transfer(
            actor=clerk,
            case_id=cid,
            to_body=texts.TRANSFER_BODIES[spec.index % len(texts.TRANSFER_BODIES)],
            note="已告知反映人转送单位及联系方式。",
            at=at,
        )
    elif spec.decision == "not_accept":
        ground, refer_to = _ground_for(case, spec)
        handling_actions.case_not_accept(
            actor=clerk, case_id=cid, ground=ground, refer_to=refer_to, note=spec.decision_note, at=at
        )
        _tell_in_writing(case, clerk, "not_accepted_notice", at)
    elif spec.decision == "return" or not _may_transfer(case):
        reason, returned_to = spec.decision_note, spec.refer_to
        if spec.decision == "transfer":  # "不得自行转送" (construction station): returned to the writer instead
            reason = f"不属于本单位职责，请向{spec.decision_note}反映。"
            returned_to = spec.forwarded_by or "来信人"
        handling_actions.case_return(actor=clerk, case_id=cid, reason=reason, returned_to=returned_to, at=at)
    else:
        handling_actions.case_transfer(
            actor=clerk, case_id=cid, to_body=spec.decision_note, note="已告知反映人转送单位及联系方式。", at=at
        )


def _tell_in_writing(case: Any, clerk: Staff, kind: str, at: datetime) -> None:
    """Where the preset wants the acceptance decision told in writing (the petition office's
    受理告知书), the desk issues the letter, as the office would."""
    preset = preset_of(case)
    if preset is not None and preset.acceptance_grounds.written_notice:
        handling_services.document_issue(actor=clerk, case_id=case.pk, kind=kind, at=at)


# A signature drawn on screen (the demo's interviewees sign with one stroke): a tiny PNG.
DEMO_SIGNATURE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAECAAAAACWpiEsAAAAC0lEQVR4nGNgIAwAACQAAbZm3wQAAAAASUVORK5CYII="
)


def _steps_before_reply(cid: int, handler: Staff, index: int, at: datetime) -> str:
    """What the case's policy requires before the answer (``presets.RequiredSteps``): an
    investigation, the written account of the person complained about, the unit's
    rectification plan told to the complainant; returns the
    remedy the answer states, where it must."""
    case = Case.objects.get(pk=cid)
    steps = case.stage_switches
    if required_step(steps, "investigation_before_reply"):
        handling_services.investigation_add(
            actor=handler,
            case_id=cid,
            kind="phone",
            text=texts.INVESTIGATIONS[index % len(texts.INVESTIGATIONS)],
            at=at,
        )
    if required_step(steps, "respondent_statement_before_reply"):
        handling_services.investigation_add(
            actor=handler,
            case_id=cid,
            kind="statement",
            text="被投诉人书面说明：已了解患者反映的情况，承认沟通解释不够耐心，今后改进。",
            at=at,
        )
    if required_step(steps, "plan_told_before_reply") and handling_steps.reply_refusal(case):
        row = handling_services.rectification_notify(
            actor=handler, case_id=cid, requirements="按处理原则限期整改。", at=at
        )
        handling_services.rectification_plan_receive(
            actor=handler, rectification_id=row.pk, plan_text="十五日内完成整改，整改后书面报站。", at=at
        )
        handling_services.rectification_plan_check(actor=handler, rectification_id=row.pk, verdict="accepted", at=at)
        handling_services.rectification_inform_complainant(
            actor=handler, rectification_id=row.pk, method="phone", note="已电话告知整改方案。", at=at
        )
    return texts.REMEDIES[index % len(texts.REMEDIES)] if required_step(steps, "remedy_in_reply") else ""


def _may_transfer(case: Any) -> bool:
    preset = preset_of(case)
    return preset is None or preset.acceptance_grounds.self_transfer_allowed


def _ground_for(case: Any, spec: CaseSpec) -> tuple[str, str]:
    """The generated ground in words, or, where the preset lists grounds, one of them."""
    preset = preset_of(case)
    grounds = preset.acceptance_grounds.not_accepted if preset else ()
    if not grounds:
        return spec.decision_note, spec.refer_to
    ground = grounds[spec.index % len(grounds)]
    bodies = {b.code: b.label for b in preset.acceptance_grounds.referral_bodies}
    refer_to = bodies.get(ground.refer_to[0], spec.refer_to) if ground.refer_to else ""
    return ground.code, refer_to


def populate(
    demo: DemoOrg,
    specs: Iterable[CaseSpec],
    *,
    now: datetime | None = None,
    seed: int = 0,
    stories: Iterable[Story] = (),
) -> int:
    """Play the specs' stories, and any other ``stories`` of the same past (the reception's
    check-ins), together in time order up to ``now`` (default: the current time); returns
    the number of cases registered from specs (every spec's: a case received just before
    ``now`` is registered at ``now`` at the latest)."""
    replay = Replay(demo, now or timezone.now(), seed=seed)
    for spec in specs:
        replay.add(spec)
    for story in stories:
        replay.add_story(story)
    return replay.run()


def play(stories: Iterable[Story], *, now: datetime) -> None:
    """Stories on their own, in time order up to ``now``, each step in its own transaction."""
    heap: list[_Entry] = []
    seq = itertools.count()
    for story in stories:
        first = next(story, None)
        if first is not None:
            heapq.heappush(heap, _Entry(first, next(seq), story))
    while heap:
        entry = heapq.heappop(heap)
        if entry.at > now:
            entry.story.close()
            continue
        with transaction.atomic():
            after = next_step(entry.story, entry.at)
        if after is not None:
            heapq.heappush(heap, _Entry(max(after, entry.at), next(seq), entry.story))
