"""Errors raised by the pipeline (never HTTP errors)."""

from __future__ import annotations


class IngestError(Exception):
    """A run could not start or finish; the message tells the operator what to fix."""
