from django import template
from django.core.exceptions import FieldDoesNotExist

from huiyin.cases.bus import value_label
from huiyin.cases.models import Case, Urgency
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


@register.filter
def event_value(event, key: str) -> str:
    """The code an event's data holds under ``key``, in words where its app labels it."""
    return value_label(event.kind, key, (event.data or {}).get(key, ""))


def _case_field(name: str):
    try:
        return Case._meta.get_field(name.removesuffix("_id"))
    except FieldDoesNotExist:
        return None


@register.filter
def case_field_label(name: str) -> str:
    """标题 for 'title': an edit's record names the fields it changed by their model names."""
    field = _case_field(name)
    return str(field.verbose_name) if field is not None else name


@register.filter
def case_field_value(value, name: str) -> str:
    """An edited field's value in words: a choice's label, a category's name."""
    field = _case_field(name)
    if field is None or value in (None, ""):
        return "—" if value in (None, "") else str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation and field.related_model is not None:
        found = field.related_model._default_manager.filter(pk=value).first()
        return str(found) if found is not None else str(value)
    return str(value)
