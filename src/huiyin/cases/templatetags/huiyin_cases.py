from django import template

from huiyin.cases.workflow import state_label as _state_label

register = template.Library()


@register.filter
def state_label(state: str) -> str:
    """已受理 for 'accepted': event payloads store codes, pages show labels."""
    return _state_label(state)
