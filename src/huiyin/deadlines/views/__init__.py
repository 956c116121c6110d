"""Deadline screens: the deadline panel on the case page and on "my desk", and the case
page's suspend / resume / extension actions. The case pages call ``deadline_panel`` and
``desk_deadlines`` for their context."""

from .panel import deadline_panel, desk_deadlines

__all__ = ["deadline_panel", "desk_deadlines"]
