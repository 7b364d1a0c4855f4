"""Per-dealer business rules (defaults from DOMAIN.md) and business-time arithmetic."""
