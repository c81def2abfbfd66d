"""Governance and audit control plane for AI systems."""

from governance.celery import app as celery_app

__all__ = ("celery_app",)
