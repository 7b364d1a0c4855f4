-- The consultant roster moved to the dealer's people in the dealer configuration (owned by
-- the dealers service: PUT /v1/dealers/{dealer_id}/people); leads reads its consultants and
-- who is on duty or away from there. What stays leads' own is the round-robin pointer,
-- assignment_rotation (unchanged).
--
-- The old roster rows are kept for one release, renamed so that nothing reads them by
-- mistake, for an operator to carry into the dealers service:
--   SELECT dealer_id, consultant_id, name, on_duty FROM consultants_retired;
-- A later migration drops the table.
ALTER TABLE consultants RENAME TO consultants_retired;
COMMENT ON TABLE consultants_retired IS
    'Retired by leads 0003: the roster is the dealer''s people (dealers service). Read-only, '
    'kept one release for carrying rows over; dropped by a later migration.';
