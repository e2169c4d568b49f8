import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { inspect } from 'node:util';
import { isSealed, keyIdOf, open, openText, rewrap, seal } from './envelope.ts';
import { SecretError } from './errors.ts';
import { generateMasterKey } from './master-key.ts';

const A = generateMasterKey();
const B = generateMasterKey();
const AAD = 'app.user_wallets:encrypted_private_key:42';
const SECRET = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

/** Expects fn to throw a SecretError with this code, whose message never shows the secret. */
function refused(fn: () => unknown, code: SecretError['code']): SecretError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(SecretError);
  expect((err as SecretError).code).toBe(code);
  expect((err as SecretError).message).not.toContain(SECRET);
  expect((err as SecretError).message).not.toContain(A.key.toString('base64'));
  return err as SecretError;
}

/** Replaces part i of an envelope (0 = version … 5 = tag) with f(bytes). */
function editPart(env: string, i: number, f: (b: Buffer) => Buffer): string {
  const parts = env.split('.');
  parts[i] = f(Buffer.from(parts[i], 'base64url')).toString('base64url');
  return parts.join('.');
}
const flip = (at: number) => (b: Buffer) => { const c = Buffer.from(b); c[at] ^= 0x01; return c; };

describe('seal / open', () => {
  it('round-trips text, binary, the empty string and 1 MB', () => {
    expect(openText(seal(SECRET, AAD, A), AAD, A)).toBe(SECRET);
    expect(openText(seal('', AAD, A), AAD, A)).toBe('');
    expect(openText(seal('clé privée ✓', AAD, A), AAD, A)).toBe('clé privée ✓');
    const bin = crypto.randomBytes(256);
    expect(open(seal(bin, AAD, A), AAD, A).equals(bin)).toBe(true);
    const big = crypto.randomBytes(1024 * 1024);
    expect(open(seal(big, AAD, A), AAD, A).equals(big)).toBe(true);
  });

  it('writes a printable, versioned envelope that names its master key', () => {
    const env = seal(SECRET, AAD, A);
    expect(env).toMatch(/^cs1\.[0-9a-f]{16}(\.[A-Za-z0-9_-]*){4}$/);
    expect(keyIdOf(env)).toBe(A.id);
    expect(isSealed(env)).toBe(true);
    expect(env).not.toContain(Buffer.from(SECRET).toString('base64url').slice(0, 12));
  });

  it('uses a fresh data key per record: two seals of the same value differ everywhere', () => {
    const [x, y] = [seal(SECRET, AAD, A).split('.'), seal(SECRET, AAD, A).split('.')];
    for (const i of [2, 3, 4, 5]) expect(x[i]).not.toBe(y[i]);
  });

  it('refuses the wrong associated data (a value moved to another row)', () => {
    const env = seal(SECRET, AAD, A);
    refused(() => open(env, 'app.user_wallets:encrypted_private_key:43', A), 'tampered');
    refused(() => open(env, 'meta.system_configuration:config_value:42', A), 'tampered');
  });

  it('refuses a flipped bit in every part', () => {
    const env = seal(SECRET, AAD, A);
    // wrapped DEK: its iv (byte 0), the wrapped key (12), its tag (59)
    for (const at of [0, 12, 43, 44, 59]) refused(() => open(editPart(env, 2, flip(at)), AAD, A), 'tampered');
    refused(() => open(editPart(env, 3, flip(0)), AAD, A), 'tampered'); // iv
    refused(() => open(editPart(env, 3, flip(11)), AAD, A), 'tampered');
    refused(() => open(editPart(env, 4, flip(0)), AAD, A), 'tampered'); // ciphertext
    refused(() => open(editPart(env, 4, flip(65)), AAD, A), 'tampered');
    refused(() => open(editPart(env, 5, flip(0)), AAD, A), 'tampered'); // tag
    refused(() => open(editPart(env, 5, flip(15)), AAD, A), 'tampered');
  });

  it('refuses a truncated tag and a tag with extra bytes', () => {
    const env = seal(SECRET, AAD, A);
    const short = refused(() => open(editPart(env, 5, (b) => b.subarray(0, 15)), AAD, A), 'tampered');
    expect(short.message).toMatch(/15 bytes/);
    refused(() => open(editPart(env, 5, (b) => b.subarray(0, 4)), AAD, A), 'tampered');
    refused(() => open(editPart(env, 5, (b) => Buffer.concat([b, Buffer.from([0])])), AAD, A), 'tampered');
    // the wrap's own tag, cut or padded
    refused(() => open(editPart(env, 2, (b) => b.subarray(0, 59)), AAD, A), 'tampered');
    refused(() => open(editPart(env, 2, (b) => Buffer.concat([b, Buffer.from([0])])), AAD, A), 'tampered');
  });

  it('refuses parts swapped between records and a relabelled key id', () => {
    const x = seal(SECRET, AAD, A).split('.');
    const y = seal(SECRET, AAD, A).split('.');
    refused(() => open([...x.slice(0, 3), ...y.slice(3)].join('.'), AAD, A), 'tampered');
    refused(() => open([...y.slice(0, 5), x[5]].join('.'), AAD, A), 'tampered');
    refused(() => open([x[0], B.id, ...x.slice(2)].join('.'), AAD, [A, B]), 'tampered');
  });

  it('says unknown_key when the wrapping master key is not loaded', () => {
    const env = seal(SECRET, AAD, A);
    const err = refused(() => open(env, AAD, B), 'unknown_key');
    expect(err.message).toContain(A.id);
    refused(() => open(env, AAD, []), 'unknown_key');
    expect(openText(env, AAD, [B, A])).toBe(SECRET);
  });

  it('calls anything else malformed, without echoing it', () => {
    const env = seal(SECRET, AAD, A);
    const bad = [SECRET, '', 'cs1', 'cs2' + env.slice(3), env + '.x', env.split('.').slice(0, 5).join('.'),
      env.replace(/^cs1\.[0-9a-f]{16}/, 'cs1.XYZ'), editPart(env, 3, (b) => b.subarray(0, 8)),
      env.split('.').map((p, i) => (i === 4 ? p + '=' : p)).join('.'), env.split('.').map((p, i) => (i === 4 ? p + '+' : p)).join('.')];
    for (const v of bad) {
      const err = refused(() => open(v, AAD, A), 'malformed');
      if (v.length > 8) expect(err.message).not.toContain(v);
      expect(isSealed(v)).toBe(false);
    }
    expect(isSealed(null)).toBe(false);
    expect(isSealed(42)).toBe(false);
    refused(() => keyIdOf('plain text'), 'malformed');
  });

  it('refuses an empty aad rather than seal a value bound to nothing', () => {
    expect(() => seal(SECRET, '', A)).toThrow(TypeError);
  });
});

describe('rewrap', () => {
  it('moves the data key to the new master and leaves the sealed value as it was', () => {
    const env = seal(SECRET, AAD, A);
    const moved = rewrap(env, AAD, A, B);
    expect(keyIdOf(moved)).toBe(B.id);
    expect(moved.split('.').slice(3)).toEqual(env.split('.').slice(3));
    expect(openText(moved, AAD, B)).toBe(SECRET);
    refused(() => open(moved, AAD, A), 'unknown_key');
  });

  it('refuses the wrong key, the wrong aad and a broken tag', () => {
    const env = seal(SECRET, AAD, A);
    refused(() => rewrap(env, AAD, B, A), 'unknown_key');
    refused(() => rewrap(env, AAD + '0', A, B), 'tampered');
    refused(() => rewrap(editPart(env, 2, flip(20)), AAD, A, B), 'tampered');
    refused(() => rewrap(editPart(env, 5, (b) => b.subarray(0, 15)), AAD, A, B), 'tampered');
  });
});

describe('MasterKey', () => {
  it('never shows its bytes in logs or JSON', () => {
    const b64 = A.key.toString('base64');
    const hex = A.key.toString('hex');
    for (const text of [JSON.stringify(A), JSON.stringify({ master: A }), inspect(A), inspect({ A }, { showHidden: false }), String(Object.keys(A))]) {
      expect(text).not.toContain(b64);
      expect(text).not.toContain(hex);
    }
    expect(inspect(A)).toContain(A.id);
  });
});
