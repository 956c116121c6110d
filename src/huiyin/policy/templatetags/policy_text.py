from django import template

from huiyin.policy.sources import shown

register = template.Library()


@register.filter
def rule_source(source: str) -> str:
    """A preset rule's source in words, not file names (``policy.sources``)."""
    return shown(source)
