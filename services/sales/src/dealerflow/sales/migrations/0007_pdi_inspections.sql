-- The pre-delivery inspection of a contract's vehicle (one per contract: a new PDI
-- replaces the last one). items: [{item, passed, note}]; delivery needs every standard
-- item recorded and none failed.
CREATE TABLE pdi_inspections (
    dealer_id    text        NOT NULL,
    contract_id  uuid        NOT NULL,
    inspector_id text        NOT NULL,
    inspected_at timestamptz NOT NULL,
    items        jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, contract_id),
    FOREIGN KEY (dealer_id, contract_id) REFERENCES contracts (dealer_id, id)
);
