"""SQL migrations of the runtime's own tables (outbox, inbox, timers), ``NNNN_name.sql``."""
