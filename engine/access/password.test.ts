import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { hash } from '@node-rs/argon2';
import { ARGON2_PARAMS, hashPassword, needsRehash, passwordProblem, verifyPassword, warmPasswordHashing } from './password.ts';

describe('argon2id password hashing', () => {
  it('loads the native binding shipped in the npm package for this platform', () => {
    const req = createRequire(import.meta.url);
    const mod = req('@node-rs/argon2');
    expect(typeof mod.hash).toBe('function');
    expect(typeof mod.verify).toBe('function');
  });

  it('hashes with argon2id at OWASP parameters (m=19 MiB, t=2, p=1) in PHC form, salted', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(ARGON2_PARAMS).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(await verifyPassword(h, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(h, 'correct horse battery stapl')).toBe(false);
    expect(await verifyPassword(h, 'Correct horse battery staple')).toBe(false);
    expect(await verifyPassword(h, '')).toBe(false);
    expect(await verifyPassword(h, 'x'.repeat(5000))).toBe(false);
  });

  it('treats text in NFC, so a composed and a decomposed accent are one password', async () => {
    const h = await hashPassword('caf\u00e9 au lait, bitte');
    expect(await verifyPassword(h, 'cafe\u0301 au lait, bitte')).toBe(true);
  });

  it('refuses (never throws on) missing and foreign hashes, spending an argon2 verification anyway', async () => {
    await warmPasswordHashing();
    const real = await hashPassword('correct horse battery staple');
    const time = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return performance.now() - t; };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time(() => verifyPassword(real, 'wrong password here')));
      unknown.push(await time(() => verifyPassword(null, 'wrong password here')));
    }
    const med = (xs: number[]) => xs.sort((x, y) => x - y)[2];
    // The same argon2 work either way: the medians stay within a factor of three of each other.
    expect(med(unknown)).toBeGreaterThan(med(known) / 3);
    expect(med(unknown)).toBeLessThan(med(known) * 3);
    for (const foreign of [null, undefined, '', 'plain', '$2b$10$abcdefghijklmnopqrstuv', '$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA', '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA']) {
      expect(await verifyPassword(foreign as string | null, 'anything')).toBe(false);
    }
  });

  it('asks for a rehash of weaker or other hashes only', async () => {
    expect(needsRehash(await hashPassword('correct horse battery staple'))).toBe(false);
    const weak = await hash('correct horse battery staple', { ...ARGON2_PARAMS, memoryCost: 4096, timeCost: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(await verifyPassword(weak, 'correct horse battery staple')).toBe(true);
    expect(needsRehash('$2b$10$whatever')).toBe(true);
  });

  it('says why a new password is refused', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toMatch(/repeat/);
    expect(passwordProblem('x'.repeat(2000))).toMatch(/at most/);
    expect(passwordProblem('correct horse battery staple')).toBeNull();
  });
});
