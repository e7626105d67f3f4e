-- The organization's maximum secret lifetime may be a number of calendar months (the
-- default: 24, counted like the six-month default secret lifetime) instead of days.
-- When secret_max_lifetime_months is set it applies and secret_max_lifetime_days is
-- ignored; an Admin who sets secret_max_lifetime_days clears it. The old default of
-- 730 days stood for "24 months", so rows still holding it take the new meaning.
-- Keep in step with ../postgres/0005_secret_cap_months_and_audit_truncate.sql, which also
-- refuses TRUNCATE on audit_events (SQLite has no TRUNCATE; its triggers from 0001
-- already refuse UPDATE and DELETE).

ALTER TABLE organizations ADD COLUMN secret_max_lifetime_months BIGINT;
UPDATE organizations SET secret_max_lifetime_months = 24 WHERE secret_max_lifetime_days = 730;
