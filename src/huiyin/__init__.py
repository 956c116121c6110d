"""Huiyin (回音): every matter registered, decided, handled on time, answered, called back, counted."""

__version__ = "0.1.0"
