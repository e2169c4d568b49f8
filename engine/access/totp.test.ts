import { describe, expect, it } from 'vitest';
import { readVectors } from './siwe/test-vectors.ts';
import { generateMasterKey } from '../secrets/index.ts';
import {
  base32Decode, base32Encode, generateTotpSecret, hotp, mfaAad, normaliseCode, openTotp, otpauthUri, sealTotp,
  totp, totpAtStep, totpStep, verifyTotp, type TotpAlgorithm,
} from './totp.ts';

const VECTORS = readVectors<{
  step: number; t0: number; digits: number; seeds_ascii: Record<TotpAlgorithm, string>;
  totp: ({ time: number; T_hex: string } & Record<TotpAlgorithm, string>)[];
  hotp_rfc4226_appendix_d: { secret_ascii: string; digits: number; values: string[] };
}>('rfc6238-totp', 'rfc6238_appendix_b.json');

describe('RFC 6238 Appendix B and RFC 4226 Appendix D vectors', () => {
  const algs: TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
  for (const v of VECTORS.totp) {
    for (const alg of algs) {
      it(`${alg} at T=${v.time} gives ${v[alg]}`, () => {
        const seed = Buffer.from(VECTORS.seeds_ascii[alg], 'ascii');
        const p = { algorithm: alg, digits: VECTORS.digits, period: VECTORS.step, t0: VECTORS.t0 };
        expect(totpStep(v.time, p)).toBe(parseInt(v.T_hex, 16));
        expect(totp(seed, v.time, p)).toBe(v[alg]);
        expect(verifyTotp(seed, v[alg], { ...p, now: v.time, window: 0 })).toEqual({ ok: true, step: parseInt(v.T_hex, 16) });
      });
    }
  }

  it('HOTP counters 0 to 9', () => {
    const h = VECTORS.hotp_rfc4226_appendix_d;
    const secret = Buffer.from(h.secret_ascii, 'ascii');
    expect(h.values.map((_, i) => hotp(secret, i, h.digits))).toEqual(h.values);
  });

  it('covers every vector in the file (6 times x 3 algorithms + 10 HOTP)', () => {
    expect(VECTORS.totp).toHaveLength(6);
    expect(VECTORS.hotp_rfc4226_appendix_d.values).toHaveLength(10);
  });
});

describe('verifyTotp', () => {
  const secret = Buffer.from('12345678901234567890', 'ascii');
  const now = 1_700_000_000; // step 56666666, 20 s into it
  const step = Math.floor(now / 30);

  it('accepts the current step and one either side, not two', () => {
    for (const d of [-1, 0, 1]) expect(verifyTotp(secret, totpAtStep(secret, step + d), { now })).toEqual({ ok: true, step: step + d });
    for (const d of [-2, 2]) expect(verifyTotp(secret, totpAtStep(secret, step + d), { now })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyTotp(secret, totpAtStep(secret, step + 2), { now, window: 2 }).ok).toBe(true);
  });

  it('refuses the last accepted step and earlier ones as replayed, and later ones as usual', () => {
    const code = totpAtStep(secret, step);
    expect(verifyTotp(secret, code, { now, lastStep: step })).toEqual({ ok: false, reason: 'replayed' });
    expect(verifyTotp(secret, totpAtStep(secret, step - 1), { now, lastStep: step })).toEqual({ ok: false, reason: 'replayed' });
    expect(verifyTotp(secret, totpAtStep(secret, step + 1), { now, lastStep: step })).toEqual({ ok: true, step: step + 1 });
    expect(verifyTotp(secret, code, { now, lastStep: step - 1 })).toEqual({ ok: true, step });
  });

  it('refuses malformed codes and codes of the wrong length', () => {
    for (const bad of ['', '12345', '1234567', 'abcdef', '12345a', '１２３４５６']) expect(verifyTotp(secret, bad, { now }).ok).toBe(false);
    expect(verifyTotp(secret, '12345', { now })).toEqual({ ok: false, reason: 'malformed' });
    expect(normaliseCode('123 456')).toBe('123456');
    expect(normaliseCode('123-456')).toBe('123456');
    expect(normaliseCode({})).toBeNull();
  });

  it('checks 7 and 8 digit codes, SHA256 and SHA512', () => {
    for (const algorithm of ['SHA256', 'SHA512'] as const) {
      for (const digits of [7, 8]) {
        const s = generateTotpSecret(algorithm);
        const code = totp(s, now, { algorithm, digits });
        expect(code).toMatch(new RegExp(`^\\d{${digits}}$`));
        expect(verifyTotp(s, code, { now, algorithm, digits }).ok).toBe(true);
        expect(verifyTotp(s, code, { now, algorithm: 'SHA1', digits }).ok).toBe(false);
      }
    }
    expect(() => totp(secret, now, { digits: 5 })).toThrow(RangeError);
    expect(() => totp(secret, now, { digits: 9 })).toThrow(RangeError);
  });
});

describe('base32', () => {
  it('matches RFC 4648 section 10 (without padding) and round-trips', () => {
    const cases: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, enc] of cases) {
      expect(base32Encode(Buffer.from(plain))).toBe(enc);
      expect(base32Decode(enc).toString()).toBe(plain);
    }
    expect(base32Decode('mzxw6ytboi======').toString()).toBe('foobar');
    expect(base32Decode('MZXW 6YTB OI').toString()).toBe('foobar');
    const r = generateTotpSecret();
    expect(base32Decode(base32Encode(r)).equals(r)).toBe(true);
    expect(base32Encode(Buffer.from('12345678901234567890'))).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  it('refuses foreign characters, impossible lengths and non-zero trailing bits', () => {
    expect(() => base32Decode('MZXW1')).toThrow(/invalid character/);
    expect(() => base32Decode('MZX')).toThrow(/impossible length/);
    expect(base32Decode('MY').toString()).toBe('f');
    expect(() => base32Decode('MZ')).toThrow(/trailing bits/); // 'f' is MY; MZ sets a leftover bit
    expect(() => base32Decode('MY7')).toThrow(/impossible length/);
  });
});

describe('otpauth URI', () => {
  it('has the Key URI Format fields, percent-encoded', () => {
    const uri = otpauthUri({ secret: Buffer.from('12345678901234567890'), account: 'ops lead@example', issuer: 'Carry: Ops' });
    expect(uri).toBe('otpauth://totp/Carry%20Ops:ops%20lead%40example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Carry%20Ops&algorithm=SHA1&digits=6&period=30');
    const u = new URL(uri);
    expect(u.protocol).toBe('otpauth:');
    expect(u.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });
});

describe('sealed storage', () => {
  it('opens only for the same user and column, with its parameters', () => {
    const key = generateMasterKey();
    const secret = generateTotpSecret('SHA256');
    const env = sealTotp({ secret, algorithm: 'SHA256', digits: 8 }, '42', key);
    expect(env).not.toContain(base32Encode(secret));
    const back = openTotp(env, '42', key);
    expect(back.secret.equals(secret)).toBe(true);
    expect(back).toMatchObject({ algorithm: 'SHA256', digits: 8, period: 30, t0: 0 });
    expect(() => openTotp(env, '43', key)).toThrow();
    expect(() => openTotp(env, '42', key, 'mfa_pending_secret_encrypted')).toThrow();
    expect(() => openTotp(env, '42', generateMasterKey())).toThrow();
    expect(mfaAad('42')).toBe('meta.users:mfa_secret_encrypted:42');
  });
});
