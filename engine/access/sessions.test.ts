// Cookie rules: __Host- prefix and Secure whenever the configured origin is https; only
// well-formed tokens are read back.
import { describe, expect, it } from 'vitest';
import { clearCookie, cookieName, readCookie, sessionConfig, sessionCookie } from './sessions.ts';

describe('session cookies', () => {
  const cfg = sessionConfig(new Map<string, unknown>([['auth.session.cookie_name', 'carry_session']]));

  it('are __Host-, Secure, HttpOnly, SameSite=Lax, Path=/ and host-only on https', () => {
    const name = cookieName(cfg, true);
    expect(name).toBe('__Host-carry_session');
    const c = sessionCookie(name, 'a'.repeat(43), 3600, true);
    expect(c).toBe(`__Host-carry_session=${'a'.repeat(43)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure`);
    expect(c).not.toMatch(/Domain=/i);
    expect(clearCookie(name, true)).toMatch(/^__Host-carry_session=; .*Max-Age=0; Secure$/);
  });

  it('drop only the prefix and Secure on plain-http localhost', () => {
    expect(cookieName(cfg, false)).toBe('carry_session');
    expect(sessionCookie('carry_session', 'b'.repeat(43), 60, false)).not.toMatch(/Secure/);
  });

  it('read back only well-formed tokens of the right name', () => {
    const t = 'c'.repeat(43);
    expect(readCookie(`x=1; carry_session=${t}; y=2`, 'carry_session')).toBe(t);
    expect(readCookie(`carry_session=short`, 'carry_session')).toBeNull();
    expect(readCookie(`carry_session=${t}'--`, 'carry_session')).toBeNull();
    expect(readCookie(`other=${t}`, 'carry_session')).toBeNull();
  });

  it('take lifetimes from configuration, refusing nonsense values', () => {
    const c = sessionConfig(new Map<string, unknown>([['auth.session.idle_timeout_seconds', 600], ['auth.session.absolute_lifetime_seconds', -5]]));
    expect(c.idleSeconds).toBe(600);
    expect(c.absoluteSeconds).toBe(604800);
  });
});
