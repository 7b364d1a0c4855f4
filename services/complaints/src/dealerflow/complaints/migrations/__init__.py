"""SQL migrations of the complaints service (NNNN_name.sql)."""
