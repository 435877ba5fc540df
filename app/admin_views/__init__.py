"""The dashboard's views, one module per area; app/admin.py registers each in this order."""

from . import accounts, analytics, money

AREAS = [accounts, money, analytics]
