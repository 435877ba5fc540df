"""Notification JSON routes under /api/v1 (docs/api.md "Notifications")."""

from __future__ import annotations
