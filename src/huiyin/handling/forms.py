"""What handling adds to the case page's action form: its lists from the models and the preset."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from django import forms

from huiyin.cases.forms import kinds_field
from huiyin.cases.workflow import complainant_kinds

from . import records
from .models import Outcome, ReviewDecision

if TYPE_CHECKING:
    from huiyin.cases.models import Case


def action_form_choices(form: forms.Form, case: Case | None) -> None:
    """Outcomes and review decisions to choose from; the preset's grounds become lists and
    its referral bodies a datalist; the dispatcher's named handler is preselected, and
    sign-for offers only the lead department's staff."""
    outcome, decision = form.fields["outcome"], form.fields["decision"]
    assert isinstance(outcome, forms.ChoiceField) and isinstance(decision, forms.ChoiceField)
    outcome.choices = [("", "—"), *Outcome.choices]
    decision.choices = [("", "—"), *ReviewDecision.choices]
    # The complainant's kind, asked at dispatch only where the policy has kinds and the
    # intake did not record it (a matter from the portal, the API, e-mail).
    missing_kind = case is not None and not case.complainant_kind and complainant_kinds(case.stage_switches)
    if "complainant_kind" in form.fields:
        if missing_kind:
            assert case is not None
            kinds_field(form, complainant_kinds(case.stage_switches), required=False)
        else:
            del form.fields["complainant_kind"]
    if case is None:
        return
    for name, key in (("ground", "not_accepted"), ("reaccept_ground", "not_reaccepted")):
        choices = records.ground_choices(case, key)
        if choices:
            form.fields[name] = forms.ChoiceField(
                label=form.fields[name].label, required=False, choices=[("", "—"), *choices]
            )
    bodies = records.referral_choices(case)
    if bodies:
        form.fields["refer_to"].widget.attrs["list"] = "referral-bodies"
        form.referral_bodies = [label for label, _label in bodies]  # type: ignore[attr-defined]
    if case.handler_id:
        form.fields["handler"].initial = case.handler_id
    handler = form.fields["handler"]
    narrowed = getattr(form, "narrowed", None)  # ActionForm: fields an action shows narrowed
    if case.lead_department_id and narrowed is not None and isinstance(handler, forms.ModelChoiceField):
        assert handler.queryset is not None  # ActionForm sets the organisation's staff
        signer = copy.deepcopy(handler)
        signer.queryset = handler.queryset.filter(department_id=case.lead_department_id)
        signer.widget.attrs.pop("data-follows", None)  # no department to pick: it is the case's
        narrowed[("sign_for", "handler")] = signer
