"""The portal's rate limits: ``huiyin.core.limits`` (shared with the receipts' status page)."""

from huiyin.core.limits import PREFIX, Limit, hit, limit_for, minutes, retry_after, spent

__all__ = ["PREFIX", "Limit", "hit", "limit_for", "minutes", "retry_after", "spent"]
