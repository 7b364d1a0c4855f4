-- A trigger dead-lettered after waiting for its contact keeps the trace context it was
-- consumed with (traceparent/tracestate headers), like every other dead letter. Rows parked
-- before have none.
ALTER TABLE awaiting_contact
    ADD COLUMN traceparent text,
    ADD COLUMN tracestate  text;
