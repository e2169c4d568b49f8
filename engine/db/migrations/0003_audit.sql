-- Audit log hardening: meta.action_logs becomes strictly append-only and gains a user agent column.
-- The hash chain itself is computed by engine/audit/chain.ts; see canonicalAuditRow there.

-- 0002 guards action_logs with meta.refuse_change(), which lets a DELETE through when the
-- transaction sets carry.maintenance = on. Any role may set a custom setting, so for the audit
-- trail that bypass is one grant away from silent deletion. A deleted audit row also breaks
-- the chain for good, so there is no legitimate retention by DELETE here: refuse always.
CREATE FUNCTION meta.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Audit rows are never changed or removed; write a new row instead.';
END $$;
COMMENT ON FUNCTION meta.refuse_audit_change() IS 'Trigger for the audit trail: refuses UPDATE, DELETE and TRUNCATE with no maintenance bypass (unlike meta.refuse_change()). Only the table owner can get past it, by disabling the trigger, and the hash chain then shows what changed.';

DROP TRIGGER action_logs_append_only ON meta.action_logs;
CREATE TRIGGER action_logs_append_only BEFORE UPDATE OR DELETE ON meta.action_logs
  FOR EACH ROW EXECUTE FUNCTION meta.refuse_audit_change();
-- Row triggers do not fire on TRUNCATE; a statement trigger does.
CREATE TRIGGER action_logs_no_truncate BEFORE TRUNCATE ON meta.action_logs
  FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_audit_change();

-- Tables grant nothing to PUBLIC by default, so this states the intent rather than changes
-- today's privileges; the triggers above are the wall for any role later granted more.
REVOKE UPDATE, DELETE, TRUNCATE ON meta.action_logs FROM PUBLIC;

-- A column rather than a key inside details_json: it is part of every request's context
-- (like ip), is queryable, and cannot collide with a key the caller put in details.
ALTER TABLE meta.action_logs ADD COLUMN user_agent text CHECK (user_agent IS NULL OR length(user_agent) <= 512);
COMMENT ON COLUMN meta.action_logs.user_agent IS 'User-Agent header of the request, cut to 512 characters; null for jobs and the command line.';
