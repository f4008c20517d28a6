"""Errors of the replay package; all derive from the one root in engine.errors."""

from engine.errors import NnreplayError


class ReplayError(NnreplayError):
    """A render request that cannot be honoured: a bad option value, an empty range, a bad output path."""
