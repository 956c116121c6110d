from django import template

from huiyin.cases.models import Urgency
from huiyin.cases.workflow import state_label as _state_label

register = template.Library()


@register.filter
def state_label(state: str) -> str:
    """已受理 for 'accepted': event payloads store codes, pages show labels."""
    return _state_label(state)


@register.filter
def urgency_label(urgency: str) -> str:
    """紧急 for 'urgent': event payloads store codes, pages show labels."""
    return str(Urgency(urgency).label) if urgency in Urgency.values else urgency
