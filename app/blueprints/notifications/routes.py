"""Notification pages: the notification centre."""

from __future__ import annotations
