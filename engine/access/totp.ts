// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP) for the second factor of
// password sign-in, plus the pieces around them: RFC 4648 base32 for secrets, the otpauth://
// URI that authenticator apps scan, and the sealed form the secret is stored in.
//
// Replay protection is the caller's: verifyTotp returns the time step it matched and refuses
// steps at or below `lastStep`, and the caller records the accepted step atomically (see
// consumeTotpStep), so a code is accepted once and never after a later one.
import crypto from 'node:crypto';
import type { DbClient, DbPool } from '../db/types.ts';
import { openText, seal, type MasterKey, type SecretColumn } from '../secrets/index.ts';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';
export const TOTP_ALGORITHMS: readonly TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

export interface TotpParams {
  /** HMAC hash; SHA1 is what every authenticator app supports (the default). */
  algorithm: TotpAlgorithm;
  /** 6 to 8 digits (default 6). */
  digits: number;
  /** Step X in seconds (default 30). */
  period: number;
  /** T0, the Unix time counting starts at (default 0). */
  t0: number;
}

export const TOTP_DEFAULTS: TotpParams = { algorithm: 'SHA1', digits: 6, period: 30, t0: 0 };

function params(p: Partial<TotpParams> = {}): TotpParams {
  const out = { ...TOTP_DEFAULTS, ...p };
  if (!TOTP_ALGORITHMS.includes(out.algorithm)) throw new RangeError(`totp: algorithm must be one of ${TOTP_ALGORITHMS.join(', ')}`);
  if (!Number.isInteger(out.digits) || out.digits < 6 || out.digits > 8) throw new RangeError('totp: digits must be 6, 7 or 8');
  if (!Number.isInteger(out.period) || out.period < 1) throw new RangeError('totp: period must be a positive integer');
  if (!Number.isFinite(out.t0)) throw new RangeError('totp: t0 must be a number');
  return out;
}

// ---------------------------------------------------------------------------------------------
// HOTP / TOTP
// ---------------------------------------------------------------------------------------------

/** RFC 4226 HOTP: HMAC of the 8-byte big-endian counter, dynamic truncation, `digits` digits. */
export function hotp(secret: Buffer, counter: number | bigint, digits = 6, algorithm: TotpAlgorithm = 'SHA1'): string {
  const c = BigInt(counter);
  if (c < 0n || c > 0xffffffffffffffffn) throw new RangeError('hotp: counter must fit in 8 unsigned bytes');
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(c);
  const mac = crypto.createHmac(algorithm.toLowerCase(), secret).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The time step T = floor((unixSeconds - T0) / X). */
export function totpStep(unixSeconds: number, p: Partial<TotpParams> = {}): number {
  const { period, t0 } = params(p);
  return Math.floor((unixSeconds - t0) / period);
}

/** The code at a time (Unix seconds). */
export function totp(secret: Buffer, unixSeconds: number, p: Partial<TotpParams> = {}): string {
  const q = params(p);
  return hotp(secret, totpStep(unixSeconds, q), q.digits, q.algorithm);
}

/** The code of one step (what a client shows during that step). */
export function totpAtStep(secret: Buffer, step: number, p: Partial<TotpParams> = {}): string {
  const q = params(p);
  return hotp(secret, step, q.digits, q.algorithm);
}

export type TotpCheck =
  | { ok: true; step: number }
  | { ok: false; reason: 'malformed' | 'mismatch' | 'replayed' };

export interface VerifyTotpOptions extends Partial<TotpParams> {
  /** Unix seconds; now when omitted. */
  now?: number;
  /** Steps accepted either side of the current one (default 1: clock drift and typing time). */
  window?: number;
  /** The last step accepted for this user: it and every earlier step are refused. */
  lastStep?: number | null;
}

/**
 * Checks a code against the steps around now. Every candidate is computed and compared in
 * constant time, so the time taken says nothing about which step (if any) matched. A code that
 * matches only a step at or below lastStep is `replayed`.
 */
export function verifyTotp(secret: Buffer, code: string, opts: VerifyTotpOptions = {}): TotpCheck {
  const q = params(opts);
  const window = opts.window ?? 1;
  if (!Number.isInteger(window) || window < 0 || window > 10) throw new RangeError('totp: window must be an integer from 0 to 10');
  const given = normaliseCode(code);
  if (given === null || given.length !== q.digits) return { ok: false, reason: 'malformed' };
  const current = totpStep(opts.now ?? Date.now() / 1000, q);
  const got = Buffer.from(given);
  let fresh: number | null = null;
  let stale = false;
  for (let d = -window; d <= window; d++) {
    const step = current + d;
    if (step < 0) continue;
    const match = crypto.timingSafeEqual(got, Buffer.from(hotp(secret, step, q.digits, q.algorithm)));
    if (!match) continue;
    if (opts.lastStep !== null && opts.lastStep !== undefined && step <= opts.lastStep) stale = true;
    else if (fresh === null) fresh = step;
  }
  if (fresh !== null) return { ok: true, step: fresh };
  return { ok: false, reason: stale ? 'replayed' : 'mismatch' };
}

/** Digits only (spaces and dashes people type are dropped); null when anything else is there. */
export function normaliseCode(code: unknown): string | null {
  if (typeof code !== 'string' && typeof code !== 'number') return null;
  const s = String(code).replace(/[\s-]/g, '');
  return /^[0-9]{1,10}$/.test(s) ? s : null;
}

// ---------------------------------------------------------------------------------------------
// Base32 (RFC 4648 §6) and secrets
// ---------------------------------------------------------------------------------------------

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Base32 without padding (as otpauth URIs carry it). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32, ignoring case, spaces, dashes and trailing '=' padding. Throws on any other
 * character, on a length no encoding produces, and on non-zero leftover bits (so each byte
 * string has exactly one accepted spelling, up to case and padding).
 */
export function base32Decode(text: string): Buffer {
  const s = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (![0, 2, 4, 5, 7].includes(s.length % 8)) throw new Error('base32: impossible length');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    const v = B32.indexOf(ch);
    if (v < 0) throw new Error('base32: invalid character');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  if (value !== 0) throw new Error('base32: non-zero trailing bits');
  return Buffer.from(out);
}

/** A fresh secret: 20 random bytes for SHA1 (RFC 4226's recommended 160 bits), 32 / 64 for SHA256 / SHA512. */
export function generateTotpSecret(algorithm: TotpAlgorithm = 'SHA1'): Buffer {
  return crypto.randomBytes(algorithm === 'SHA1' ? 20 : algorithm === 'SHA256' ? 32 : 64);
}

/**
 * The Key URI Format authenticator apps read from a QR code:
 * otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=…&digits=…&period=…
 */
export function otpauthUri(input: { secret: Buffer; account: string; issuer: string } & Partial<TotpParams>): string {
  const q = params(input);
  // The label's issuer and account are separated by ':', so neither may contain one.
  const issuer = input.issuer.replace(/:/g, '').trim() || 'Carry';
  const account = input.account.replace(/:/g, '').trim() || 'user';
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(input.secret), issuer, algorithm: q.algorithm, digits: String(q.digits), period: String(q.period),
  });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}

// ---------------------------------------------------------------------------------------------
// Stored form: a sealed JSON record, bound to the user's row and column
// ---------------------------------------------------------------------------------------------

export type MfaColumn = 'mfa_secret_encrypted' | 'mfa_pending_secret_encrypted';

/** Where sealed TOTP secrets live, for master-key rotation. */
export const MFA_SECRET_COLUMNS: SecretColumn[] = [
  { schema: 'meta', table: 'users', column: 'mfa_secret_encrypted', key: ['user_id'] },
  { schema: 'meta', table: 'users', column: 'mfa_pending_secret_encrypted', key: ['user_id'] },
];

export function mfaAad(userId: string | number | bigint, column: MfaColumn = 'mfa_secret_encrypted'): string {
  return `meta.users:${column}:${String(userId)}`;
}

export interface StoredTotp extends TotpParams { secret: Buffer }

/** Seals the secret and its parameters for one user's column. */
export function sealTotp(t: { secret: Buffer } & Partial<TotpParams>, userId: string, master: MasterKey, column: MfaColumn = 'mfa_secret_encrypted'): string {
  const q = params(t);
  const record = JSON.stringify({ v: 1, secret: base32Encode(t.secret), algorithm: q.algorithm, digits: q.digits, period: q.period, t0: q.t0 });
  return seal(record, mfaAad(userId, column), master);
}

/** Opens what sealTotp wrote; throws SecretError when it was moved, edited or the key is wrong. */
export function openTotp(envelope: string, userId: string, master: MasterKey | MasterKey[], column: MfaColumn = 'mfa_secret_encrypted'): StoredTotp {
  const r = JSON.parse(openText(envelope, mfaAad(userId, column), master)) as { v: number; secret: string } & TotpParams;
  if (r.v !== 1 || typeof r.secret !== 'string') throw new Error('totp: unknown stored record version');
  return { ...params({ algorithm: r.algorithm, digits: r.digits, period: r.period, t0: r.t0 }), secret: base32Decode(r.secret) };
}

/**
 * Records `step` as the user's last accepted TOTP step, only if it is later than the one
 * recorded: true when this call won. Concurrent sign-ins with one code race on the row, and
 * exactly one of them gets true.
 */
export async function consumeTotpStep(c: DbClient | DbPool, userId: string, step: number): Promise<boolean> {
  const r = await c.query(`UPDATE meta.users SET mfa_last_used_step = $2
    WHERE user_id = $1 AND (mfa_last_used_step IS NULL OR mfa_last_used_step < $2) RETURNING user_id`, [userId, step]);
  return r.rows.length === 1;
}
