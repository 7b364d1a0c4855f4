-- Finance confirms a payment a salesperson entered (who, when). Only confirmed money
-- counts as paid; rows confirmed when entered keep NULL here (confirmed at recording).
ALTER TABLE payments
    ADD COLUMN confirmed_by text,
    ADD COLUMN confirmed_at timestamptz,
    ADD CONSTRAINT payments_confirmation_whole
        CHECK ((confirmed_by IS NULL) = (confirmed_at IS NULL)),
    ADD CONSTRAINT payments_confirmation_confirms
        CHECK (confirmed_by IS NULL OR confirmed);
