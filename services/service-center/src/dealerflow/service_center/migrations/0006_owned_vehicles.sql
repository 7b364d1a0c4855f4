-- The maintenance calendar (issue 12): vehicles sold to their owners (VehicleDelivered,
-- from sales or an outside DMS), registered for the first maintenance. One row per dealer
-- and VIN (a resale replaces it); the contact snapshot is erased by the eraser.
CREATE TABLE owned_vehicles (
    dealer_id     text        NOT NULL,
    vin           text        NOT NULL,
    customer_id   uuid        NOT NULL,
    model         text        NOT NULL,
    delivered_at  timestamptz NOT NULL,
    odometer_km   integer     NOT NULL CHECK (odometer_km >= 0),
    contact       jsonb       NOT NULL,
    first_due_on  date        NOT NULL,
    first_due_km  integer     NOT NULL,
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, vin)
);
CREATE INDEX owned_vehicles_customer_idx ON owned_vehicles (dealer_id, customer_id);
