// Password hashing: argon2id in PHC form, with OWASP's parameters (m = 19 MiB, t = 2, p = 1).
// @node-rs/argon2 (Rust, prebuilt per platform inside its npm packages; no install script)
// runs each hash on libuv's thread pool, so the event loop keeps serving while it works.
//
// Every refusal costs one argon2 verification: a user that does not exist, has no password, or
// has a hash in a format this code cannot read is checked against a dummy hash, so the time a
// sign-in takes does not tell whether the username exists.
import crypto from 'node:crypto';
import { Algorithm, hash, parseOptions, verify, type Options } from '@node-rs/argon2';
import type { DbClient, DbPool } from '../db/types.ts';

/** OWASP Password Storage Cheat Sheet, argon2id, first option: m=19456 KiB, t=2, p=1. */
export const ARGON2_PARAMS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const satisfies Options;

/** Longer input is refused before hashing: a megabyte "password" is a denial of service. */
export const PASSWORD_MAX_LENGTH = 1024;
/** NIST SP 800-63B allows 8 with a second factor; 12 is asked for everyone here. */
export const PASSWORD_MIN_LENGTH = 12;

export async function hashPassword(plain: string, params: Options = ARGON2_PARAMS): Promise<string> {
  if (typeof plain !== 'string' || plain.length === 0 || plain.length > PASSWORD_MAX_LENGTH) {
    throw new RangeError(`password must be 1 to ${PASSWORD_MAX_LENGTH} characters`);
  }
  return hash(plain.normalize('NFC'), params);
}

let dummy: Promise<string> | null = null;
/** A hash of a random password with the current parameters, made once, to burn time on. */
function dummyHash(): Promise<string> {
  dummy ??= hash(crypto.randomBytes(32).toString('base64url'), ARGON2_PARAMS);
  return dummy;
}

function isArgon2id(encoded: unknown): encoded is string {
  return typeof encoded === 'string' && /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(encoded);
}

/**
 * True when plain matches the stored hash. A missing or unreadable hash (unknown user,
 * wallet-only user, another format) is never a match and takes as long as a real check.
 */
export async function verifyPassword(encoded: string | null | undefined, plain: string): Promise<boolean> {
  const text = typeof plain === 'string' && plain.length <= PASSWORD_MAX_LENGTH ? plain.normalize('NFC') : '';
  if (!isArgon2id(encoded)) {
    await verify(await dummyHash(), text || 'x').catch(() => false);
    return false;
  }
  try {
    return text !== '' && await verify(encoded, text);
  } catch {
    return false;
  }
}

/** Made before the first sign-in needs it, so the first unknown username is not slower. */
export function warmPasswordHashing(): Promise<void> {
  return dummyHash().then(() => undefined);
}

/** True when a stored hash is weaker than (or not) the current argon2id parameters: rehash it at the next sign-in. */
export function needsRehash(encoded: string, params: typeof ARGON2_PARAMS = ARGON2_PARAMS): boolean {
  if (!isArgon2id(encoded)) return true;
  try {
    const o = parseOptions(encoded);
    return o.memoryCost < params.memoryCost || o.timeCost < params.timeCost || o.parallelism < params.parallelism || o.outputLen < params.outputLen;
  } catch {
    return true;
  }
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(plain: unknown): string | null {
  if (typeof plain !== 'string') return 'the password must be a string';
  const chars = [...plain.normalize('NFC')].length;
  if (chars < PASSWORD_MIN_LENGTH) return `the password must have at least ${PASSWORD_MIN_LENGTH} characters`;
  if (plain.length > PASSWORD_MAX_LENGTH) return `the password must have at most ${PASSWORD_MAX_LENGTH} characters`;
  if (new Set(plain).size < 4) return 'the password must not repeat one or a few characters';
  return null;
}

/**
 * Sets a user's password (for an operator tool, a CLI or a settings page). Hashes before it
 * touches the database: never call it with a transaction's client checked out on PGlite for
 * longer than needed, the hash takes tens of milliseconds.
 */
export async function setUserPassword(c: DbClient | DbPool, userId: string, plain: string): Promise<void> {
  const problem = passwordProblem(plain);
  if (problem) throw new RangeError(problem);
  const encoded = await hashPassword(plain);
  const r = await c.query('UPDATE meta.users SET hashed_password = $2 WHERE user_id = $1 RETURNING user_id', [userId, encoded]);
  if (!r.rows.length) throw new Error(`no user ${userId}`);
}
