-- Delivery receipts (issue 14): the providers' status reports (Aliyun SmsReport, Tencent
-- SMS callback, Twilio StatusCallback, WeChat TEMPLATESENDJOBFINISH) name a message by the
-- id the provider returned when it accepted it. A delivered receipt records when
-- (delivered_at); a failed one turns the sent message failed (error: the provider's code).
-- A time and an index on ids: nothing to erase here (the row's personal data already is).
ALTER TABLE notifications ADD COLUMN delivered_at timestamptz;
CREATE INDEX notifications_provider_message_idx ON notifications (channel, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
