-- Parts catalogue and stock per dealer (issue 12 item 3). Stock is never negative and
-- never more reserved than on hand: the CHECK refuses it, whatever the caller (a
-- concurrent reservation that would break it fails instead of overselling). Part numbers,
-- descriptions, prices and quantities only: no customer data. Row-level security applies.
CREATE TABLE parts (
    dealer_id        text          NOT NULL,
    part_number      text          NOT NULL,
    description      text          NOT NULL,
    category         text          NOT NULL,
    unit_price       numeric(14, 2) NOT NULL CHECK (unit_price >= 0),
    currency         text          NOT NULL,
    reorder_point    integer       NOT NULL CHECK (reorder_point >= 0),
    over_stock_limit integer,
    on_hand          integer       NOT NULL DEFAULT 0,
    reserved         integer       NOT NULL DEFAULT 0,
    updated_by       text,
    updated_at       timestamptz   NOT NULL,
    PRIMARY KEY (dealer_id, part_number),
    CONSTRAINT parts_stock_never_negative
        CHECK (on_hand >= 0 AND reserved >= 0 AND reserved <= on_hand),
    CONSTRAINT parts_over_stock_above_reorder
        CHECK (over_stock_limit IS NULL OR over_stock_limit > reorder_point)
);

-- What the approval of a repair order reserved (or could not: back_ordered) per quote
-- line that names a part, then issued to the workshop, returned unused (issued) or
-- released (reserved, not issued). One row per line.
CREATE TABLE part_reservations (
    dealer_id       text        NOT NULL,
    repair_order_id uuid        NOT NULL,
    item_id         text        NOT NULL,
    part_number     text        NOT NULL,
    quantity        integer     NOT NULL CHECK (quantity > 0),
    status          text        NOT NULL
        CHECK (status IN ('reserved', 'back_ordered', 'issued', 'returned', 'released')),
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, repair_order_id, item_id)
);

-- Stock counts: one row per counted part, the adjustment it made and why.
CREATE TABLE stock_adjustments (
    dealer_id      text        NOT NULL,
    stock_count_id uuid        NOT NULL,
    part_number    text        NOT NULL,
    counted        integer     NOT NULL CHECK (counted >= 0),
    on_hand_before integer     NOT NULL,
    adjustment     integer     NOT NULL,
    reason         text        NOT NULL,
    recorded_by    text,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, stock_count_id, part_number)
);

-- Purchase orders to suppliers; the receipt adds the received quantities to on hand.
CREATE TABLE purchase_orders (
    dealer_id   text        NOT NULL,
    id          uuid        NOT NULL,
    supplier    text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('open', 'received')),
    ordered_by  text,
    ordered_at  timestamptz NOT NULL,
    received_by text,
    received_at timestamptz,
    PRIMARY KEY (dealer_id, id)
);

CREATE TABLE purchase_order_lines (
    dealer_id         text           NOT NULL,
    purchase_order_id uuid           NOT NULL,
    part_number       text           NOT NULL,
    quantity          integer        NOT NULL CHECK (quantity > 0),
    unit_cost         numeric(14, 2) NOT NULL CHECK (unit_cost >= 0),
    currency          text           NOT NULL,
    received          integer        CHECK (received >= 0),
    PRIMARY KEY (dealer_id, purchase_order_id, part_number)
);
