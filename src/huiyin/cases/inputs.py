"""What a registration carries, as plain dataclasses with no Django imports, so that
generators and importers can build them without a configured project."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class PartyInput:
    name: str = ""
    phone: str = ""
    id_number: str = ""
    address: str = ""
    affiliation: str = ""
    anonymous: bool = False
    email: str = ""
    sms_opt_out: bool = False  # the person asked for no text messages
    language: str = ""  # the language messages to the person are written in ("": the default)
    gender: str = ""  # "male" / "female" / "" (cases.models.Gender)
    age: int | None = None


@dataclass
class IntakeInput:
    channel: str
    nature: str
    title: str
    text: str
    party: PartyInput = field(default_factory=PartyInput)
    category_id: int | None = None
    urgency: str = "normal"
    location: str = ""
    received_at: datetime | None = None
    group_size: int = 1
    representatives: list[PartyInput] = field(default_factory=list)
    forwarded_by: str = ""
    forwarded_ref: str = ""
    intake_token: str | None = None
    # Who the complainant is, one of the policy's kinds (``intake.complainant_kinds``: the
    # hospital's outpatients and inpatients); "" when not known or the policy has none.
    complainant_kind: str = ""
    # The clerk confirms this is a new matter although the same number has an open case
    # registered today, or an open matter (the preset's ``intake.repeat_same_day`` /
    # ``repeat_while_open``).
    new_matter: bool = False
