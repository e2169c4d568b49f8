// Errors of the secrets library. Messages name what is wrong and how to fix it, and never carry
// plaintext, key bytes or the value of CARRY_MASTER_KEY: they end up in logs and error reports.

/** A sealed value that cannot be opened: its text is not an envelope, its master key is not at
 *  hand, or its authentication failed (tampered, wrong row, truncated tag). */
export type SecretErrorCode = 'malformed' | 'unknown_key' | 'tampered';

export class SecretError extends Error {
  constructor(public readonly code: SecretErrorCode, message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** The master key could not be loaded: missing, malformed, or stored in a file others can read. */
export type MasterKeyErrorCode = 'missing' | 'invalid' | 'insecure_file';

export class MasterKeyError extends Error {
  constructor(public readonly code: MasterKeyErrorCode, message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}
