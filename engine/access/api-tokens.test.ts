import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { bearerAuthContext, bearerToken, hashApiToken, newApiToken } from './api-tokens.ts';

describe('API token format', () => {
  it('is carry_ and 32 random bytes in base64url, stored as a SHA-256 hex digest', () => {
    const t = newApiToken();
    expect(t).toMatch(/^carry_[A-Za-z0-9_-]{43}$/);
    expect(newApiToken()).not.toBe(t);
    expect(hashApiToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiToken(t)).toBe(crypto.createHash('sha256').update(t).digest('hex'));
  });

  it('is read only from "Authorization: Bearer carry_…"', () => {
    const t = newApiToken();
    expect(bearerToken(`Bearer ${t}`)).toBe(t);
    expect(bearerToken(`bearer  ${t} `)).toBe(t);
    expect(bearerToken([`Bearer ${t}`])).toBe(t);
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken(`Basic ${t}`)).toBeNull();
    expect(bearerToken('Bearer eyJhbGciOi.other.jwt')).toBeNull();
    expect(bearerToken(`Bearer ${t} extra`)).toBeNull();
    expect(bearerToken(`Bearer carry_short`)).toBe('carry_short'); // ours, malformed: refused later, not ignored
  });

  it('acts in exactly its one role', () => {
    const rules = { roles: new Map([['trader', { permissions: new Set(['position:open']) }]]) };
    expect(bearerAuthContext(rules, { userId: '7', role: 'trader' })).toEqual({
      userId: '7', role: 'trader', roles: ['trader'], wallet: null, sessionId: null, permissions: new Set(['position:open']),
    });
  });
});
