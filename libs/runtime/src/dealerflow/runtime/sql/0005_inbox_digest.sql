-- What each handled event said (dealerflow.runtime.inbox.event_digest): an event id seen
-- again with a different body is a producer's bug or a forgery, dead-lettered instead of
-- dropped as a redelivery. Rows from before this column (NULL) count as the same body.
ALTER TABLE inbox ADD COLUMN digest bytea;
