-- Password sign-in with a TOTP second factor (optional, off by default: auth.password_auth_enabled).
-- meta.users already holds hashed_password and mfa_secret_encrypted; this adds what TOTP needs
-- besides the secret: the last accepted time step (one code, one use) and a pending secret
-- while a user enrols, so a new secret replaces the old one only after a code from it is shown.

ALTER TABLE meta.users
  ADD COLUMN mfa_last_used_step bigint CHECK (mfa_last_used_step IS NULL OR mfa_last_used_step >= 0),
  ADD COLUMN mfa_pending_secret_encrypted text,
  ADD COLUMN mfa_enabled_at timestamptz;

COMMENT ON COLUMN meta.users.mfa_last_used_step IS 'Last TOTP time step (Unix time / 30 s) accepted for this user; a code of this step or an earlier one is refused, so an observed code cannot be replayed.';
COMMENT ON COLUMN meta.users.mfa_pending_secret_encrypted IS 'TOTP secret being enrolled (sealed like mfa_secret_encrypted); it becomes the active secret once the user confirms a code from it. Never returned by the API.';
COMMENT ON COLUMN meta.users.mfa_enabled_at IS 'When the current TOTP secret was confirmed; null when the user has no second factor.';
COMMENT ON COLUMN meta.users.hashed_password IS 'Password hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$hash) when password sign-in is enabled; null for wallet-only users. Never returned by the API.';
COMMENT ON COLUMN meta.users.mfa_secret_encrypted IS 'TOTP secret and its parameters, sealed with the master key (envelope encryption, AES-256-GCM) and bound to the row (AAD meta.users:mfa_secret_encrypted:<user_id>). Never returned by the API.';
