from django import template

from huiyin.policy import labels
from huiyin.policy.sources import shown

register = template.Library()


@register.filter
def rule_source(source: str) -> str:
    """A preset rule's source in words, not file names (``policy.sources``)."""
    return shown(source)


@register.filter
def preset_label(text: str) -> str:
    """A preset's short label in the active language (``policy.labels.preset_label``)."""
    return labels.preset_label(text)
