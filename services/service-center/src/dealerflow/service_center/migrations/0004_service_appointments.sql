-- Service appointments (issue 12): bookings into the workshop's slots. The contact and
-- the concerns are the customer's (erased by the eraser); the rest is ids, times, flags.
CREATE TABLE service_appointments (
    dealer_id          text        NOT NULL,
    id                 uuid        NOT NULL,
    customer_id        uuid        NOT NULL,
    vin                text        NOT NULL,
    work_type          text        NOT NULL,
    intake_channel     text        NOT NULL,
    slot_start         timestamptz NOT NULL,
    slot_end           timestamptz NOT NULL,
    slots              timestamptz[] NOT NULL,
    advisor_id         text,
    pickup_requested   boolean     NOT NULL DEFAULT false,
    dropoff_requested  boolean     NOT NULL DEFAULT false,
    concerns           jsonb       NOT NULL DEFAULT '[]'::jsonb,
    contact            jsonb       NOT NULL,
    status             text        NOT NULL,
    booked_at          timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    cancelled_by       text,
    cancel_reason      text,
    repair_order_id    uuid,
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX service_appointments_vin_idx ON service_appointments (dealer_id, vin);
CREATE INDEX service_appointments_customer_idx ON service_appointments (dealer_id, customer_id);

-- Jobs booked per slot: the database refuses overbooking (a booking increments every slot
-- it takes with a conditional upsert, which locks the row; the CHECK is the backstop).
CREATE TABLE service_slot_load (
    dealer_id   text        NOT NULL,
    slot_start  timestamptz NOT NULL,
    booked      integer     NOT NULL CHECK (booked >= 0),
    capacity    integer     NOT NULL CHECK (capacity >= 0),
    CHECK (booked <= capacity),
    PRIMARY KEY (dealer_id, slot_start)
);
