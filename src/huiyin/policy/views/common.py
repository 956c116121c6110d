"""What the policy screens share (the deadline panel too): role names."""

from __future__ import annotations

from huiyin.orgs.roles import Role


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role
