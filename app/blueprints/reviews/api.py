"""Review JSON routes under /api/v1 (docs/api.md "Reviews")."""
