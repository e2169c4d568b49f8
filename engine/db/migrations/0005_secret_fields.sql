-- Secret columns: declared by the definition (meta.fields.secret), never granted to any role,
-- written through the API only as sealed envelopes (AES-256-GCM, a data key per value).
ALTER TABLE meta.fields ADD COLUMN secret boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN meta.fields.secret IS 'The column holds a secret (a private key, a TOTP seed): no role may ever read it, not even with a rule granting all columns; values written through the API are sealed with the master key (envelope encryption, bound to the row) and only the engine can open them.';
