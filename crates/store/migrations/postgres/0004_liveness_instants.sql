-- When an organization last turned M2M access off, and when a person was last deactivated
-- (Unix milliseconds, UTC; NULL: never). Access tokens issued at or before these instants
-- stay dead even after M2M is turned back on or the person is reactivated.
-- Set inside the same update that flips the flag. Keep in step with
-- ../sqlite/0004_liveness_instants.sql.

ALTER TABLE organizations ADD COLUMN m2m_disabled_at BIGINT;
ALTER TABLE principals ADD COLUMN deactivated_at BIGINT;
