"""The action registry: every verb on a case is one ``ActionSpec``.

A spec names the action (the state-table edge it takes, ``workflow.EDGES``), its typed input
(a dataclass whose fields are the service's keyword arguments), the service that performs it
(one locking ``services.transition``), the workbench form fields it reads, and what the
owning app's records say about whether it is open now (``available``: whose signature is
due, which review is next). Permission is the edge's capability and the department scope
(``cases.permissions.may_take``), checked by the service itself.

``allowed_actions(actor, case)`` returns specs with their edge: the case page's buttons and
the API's list of actions come from this one source, and ``perform`` is the one way to run
one from a form or a request body. The specs are listed in the subscriber table
(``huiyin/subscribers.py``, ``ACTIONS``): the core's own here, the handling verbs in
``handling/actions.py``. Adding a verb: docs/architecture.md, "Adding a case action".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import services
from .workflow import EDGES, Edge, edges_from, required_step

if TYPE_CHECKING:
    from django import forms

    from huiyin.orgs.models import Staff

    from .models import Case


@dataclass(frozen=True)
class ActionSpec:
    name: str
    input: type  # a dataclass; its fields are the service's keyword arguments
    service: Callable[..., Case]
    form_fields: tuple[str, ...] = ()  # the workbench ActionForm fields, in display order
    available: Callable[[Staff, Case], bool] | None = None  # the owning app's records' say
    customize_form: Callable[[forms.Form, Case], None] | None = None  # choices from the preset
    owner: str = "cases"

    def build(self, values: dict[str, Any]) -> Any:
        """The typed input from a mapping (form cleaned data or a request body): unknown
        keys are left out, missing ones take the dataclass default."""
        names = {f.name for f in fields(self.input)}
        return self.input(**{k: v for k, v in values.items() if k in names})

    def run(self, *, actor: Staff, case_id: int, data: Any, expected_version: int | None = None) -> Case:
        return self.service(actor=actor, case_id=case_id, expected_version=expected_version, **asdict(data))


@dataclass(frozen=True)
class AllowedAction:
    spec: ActionSpec
    edge: Edge

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return str(self.edge.label)


# --- the registry ------------------------------------------------------------------------------

_registry: dict[str, ActionSpec] = {}


def register(specs: Iterable[ActionSpec]) -> dict[str, ActionSpec]:
    """Index the table's specs: every edge action needs exactly one spec, and a spec needs an edge."""
    index: dict[str, ActionSpec] = {}
    for spec in specs:
        if spec.name in index:
            raise ValueError(f"action {spec.name!r} registered by {index[spec.name].owner} and {spec.owner}")
        index[spec.name] = spec
    edge_actions = {e.action for e in EDGES}
    if set(index) != edge_actions:
        missing, extra = sorted(edge_actions - set(index)), sorted(set(index) - edge_actions)
        raise ValueError(f"action specs do not match the state table: missing {missing}, without an edge {extra}")
    _registry.clear()
    _registry.update(index)
    return index


def spec_for(name: str) -> ActionSpec | None:
    return _registry.get(name)


def all_specs() -> list[ActionSpec]:
    return list(_registry.values())


def allowed_actions(actor: Staff, case: Case) -> list[AllowedAction]:
    """Exactly the moves the services would accept now: the table's edges from the case's
    state under its policy, the actor's permission, and the owning app's records."""
    allowed = []
    for edge in edges_from(case.state, case.stage_switches):
        spec = _registry.get(edge.action)
        if spec is None or not services.may_take(actor, case, edge):
            continue
        if spec.available is not None and not spec.available(actor, case):
            continue
        allowed.append(AllowedAction(spec, edge))
    return allowed


def perform(
    *, actor: Staff, case_id: int, name: str, values: dict[str, Any], expected_version: int | None = None
) -> Case:
    spec = _registry[name]
    return spec.run(actor=actor, case_id=case_id, data=spec.build(values), expected_version=expected_version)


# --- the core's own verbs ------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptInput:
    note: str = ""


@dataclass(frozen=True)
class ReplyInput:
    reply: str = ""
    method: str = "phone"
    replied_at: datetime | None = None
    remedy: str = ""


@dataclass(frozen=True)
class AnswerOnSpotInput:
    reply: str = ""
    method: str = "phone"


@dataclass(frozen=True)
class CloseInput:
    satisfaction: str = ""
    callback_note: str = ""
    confirmed: bool = False
    confirmation_note: str = ""


@dataclass(frozen=True)
class ReasonInput:
    reason: str = ""


@dataclass(frozen=True)
class NoInput:
    pass


def _reply_form(form: forms.Form, case: Case | None) -> None:
    """The remedy field only where the case's policy wants the answer to state it."""
    if case is None or not required_step(case.stage_switches, "remedy_in_reply"):
        form.fields.pop("remedy", None)


SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("accept", AcceptInput, services.case_accept, ("note",)),
    ActionSpec("answer_on_spot", AnswerOnSpotInput, services.case_answer_on_spot, ("reply", "method")),
    ActionSpec(
        "reply",
        ReplyInput,
        services.case_reply,
        ("reply", "remedy", "method", "replied_at"),
        customize_form=_reply_form,
    ),
    ActionSpec(
        "close",
        CloseInput,
        services.case_close,
        ("satisfaction", "callback_note", "confirmed", "confirmation_note"),
    ),
    ActionSpec("reopen", ReasonInput, services.case_reopen, ("reason",)),
    ActionSpec("archive", NoInput, services.case_archive),
)
