from django import template

register = template.Library()


@register.filter
def rate(value) -> str:
    """A Rate as "81.3%（13/16）", or "—" without a sample."""
    return "—" if value.value is None else str(value)
