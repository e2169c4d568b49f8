// Checklist A2 (verification vectors), A5–A8 (domain, nonce smuggling, time window, chain/URI/
// version) with real signatures from a viem local account (Anvil account #0).
import { recoverMessageAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { buildSiweMessage, formatSiweMessage } from './message.ts';
import type { SiweMessage } from './parse.ts';
import { siwe } from './test-vectors.ts';
import { verifySiwe, SiweVerifyError, type SiweExpectations, type SiweVerifyInput } from './verify.ts';

/** The reason code a verification ends with, or 'accepted'. */
async function outcome(input: SiweVerifyInput): Promise<string> {
  try {
    await verifySiwe(input);
    return 'accepted';
  } catch (err) {
    if (err instanceof SiweVerifyError) return err.reason;
    throw err;
  }
}

// Vector objects mix message fields with verifier inputs; these keys are the inputs.
const INPUT_KEYS = new Set(['signature', 'time', 'domainBinding', 'matchNonce']);

function vectorInput(v: Record<string, unknown>): SiweVerifyInput {
  const fields = Object.fromEntries(Object.entries(v).filter(([k]) => !INPUT_KEYS.has(k))) as unknown as SiweMessage;
  return {
    // formatSiweMessage, not build: some vectors hold impossible dates on purpose.
    message: formatSiweMessage(fields),
    signature: v.signature as `0x${string}`,
    expected: {
      domain: (v.domainBinding ?? v.domain) as string,
      chainIds: [v.chainId as number],
      nonce: v.matchNonce as string | undefined,
      now: typeof v.time === 'string' ? new Date(v.time) : undefined,
      // The vectors predate any max-age policy (issued in 2022); they test the other rules.
      maxAgeSeconds: Infinity,
    },
  };
}

describe('spruceid verification_positive vectors', () => {
  const cases = Object.entries(siwe.verificationPositive());
  it('are all there', () => expect(cases.length).toBe(4));

  it.each(cases.filter(([name]) => name !== 'expired message'))('%s is accepted', async (_name, v) => {
    const result = await verifySiwe(vectorInput(v));
    expect(result).toMatchObject({ address: v.address, chainId: v.chainId, nonce: v.nonce, method: 'eip191' });
  });

  // Disagreement, by policy: this vector is issued 2022-01-05, expires 2021-01-05 and is checked
  // at 2020-01-05. spruce never compares Issued At with the clock; Carry refuses a message issued
  // in the future (beyond the skew), so this one — issued after it expired — is never valid.
  it('expired message: signature valid, refused as issued_in_future by Carry policy', async () => {
    const v = siwe.verificationPositive()['expired message'];
    const input = vectorInput(v);
    expect(await recoverMessageAddress({ message: input.message, signature: input.signature })).toBe(v.address);
    expect(await outcome(input)).toBe('issued_in_future');
  });
});

describe('spruceid verification_negative vectors', () => {
  const expectedReason: Record<string, string> = {
    'expired message': 'expired',
    'domain binding': 'domain',
    'custom time': 'expired',
    'custom nonce': 'nonce',
    'malformed signature': 'signature',
    'wrong signature': 'signature',
    'not yet valid': 'not_yet_valid',
    'invalid issuedAt': 'malformed',
    'invalid notBefore': 'malformed',
    'invalid expirationTime': 'malformed',
  };
  const cases = Object.entries(siwe.verificationNegative());
  it('are all there', () => {
    expect(cases.length).toBe(10);
    expect(Object.keys(expectedReason).sort()).toEqual(cases.map(([n]) => n).sort());
  });
  it.each(cases)('%s is refused', async (name, v) => {
    expect(await outcome(vectorInput(v))).toBe(expectedReason[name]);
  });
});

// --- A real signing flow -------------------------------------------------------------------

const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const NOW = new Date('2026-03-01T12:00:00Z');
const at = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000).toISOString();
const NONCE = 'abcdEFGH1234';

function fields(patch: Partial<SiweMessage> = {}): SiweMessage {
  return {
    domain: 'carry.example',
    address: account.address,
    statement: 'Sign in to Carry',
    uri: 'https://carry.example/login',
    version: '1',
    chainId: 1,
    nonce: NONCE,
    issuedAt: at(-10),
    ...patch,
  };
}

const EXPECTED: SiweExpectations = { domain: 'carry.example', uri: 'https://carry.example', chainIds: [1, 42161], nonce: NONCE, now: NOW };

async function signedInput(patch: Partial<SiweMessage> = {}, expected: Partial<SiweExpectations> = {}): Promise<SiweVerifyInput> {
  const message = formatSiweMessage(fields(patch));
  return { message, signature: await account.signMessage({ message }), expected: { ...EXPECTED, ...expected } };
}

describe('signing flow with Anvil account #0', () => {
  it('accepts a correct sign-in and returns address, chain and nonce', async () => {
    const message = buildSiweMessage(fields({ chainId: 42161 }));
    const signature = await account.signMessage({ message });
    const result = await verifySiwe({ message, signature, expected: EXPECTED });
    expect(result).toEqual({ address: account.address, chainId: 42161, nonce: NONCE, fields: fields({ chainId: 42161 }), method: 'eip191' });
  });

  const cases: [string, Partial<SiweMessage>, Partial<SiweExpectations>, string][] = [
    ['expected domain written as an origin', {}, { domain: 'https://carry.example' }, 'accepted'],
    ['explicit default port', { domain: 'carry.example:443' }, {}, 'accepted'],
    ['explicit https scheme', { scheme: 'https' }, {}, 'accepted'],
    ['host in another case', { domain: 'Carry.Example' }, {}, 'accepted'],
    ['wrong domain (A5)', { domain: 'evil.example' }, {}, 'domain'],
    ['a subdomain', { domain: 'app.carry.example' }, {}, 'domain'],
    ['another port', { domain: 'carry.example:8443' }, {}, 'domain'],
    ['userinfo before the host', { domain: 'carry.example@evil.example' }, {}, 'domain'],
    ['http scheme where https is expected', { scheme: 'http' }, {}, 'domain'],
    ['http dev origin configured and used', { scheme: 'http', domain: 'localhost:3000', uri: 'http://localhost:3000/' }, { domain: 'http://localhost:3000', uri: 'http://localhost:3000' }, 'accepted'],
    ['wrong chain (A8)', { chainId: 5 }, {}, 'chain'],
    ['wrong URI origin (A8)', { uri: 'https://evil.example/login' }, {}, 'uri'],
    ['URI with credentials hiding the host', { uri: 'https://carry.example@evil.example/login' }, {}, 'uri'],
    ['URI on http instead of https', { uri: 'http://carry.example/login' }, {}, 'uri'],
    ['URI without an origin', { uri: 'urn:carry:login' }, {}, 'uri'],
    ['expired (A7)', { expirationTime: at(-120) }, {}, 'expired'],
    ['expired but within the clock skew', { expirationTime: at(-30) }, {}, 'accepted'],
    ['Not Before in the future (A7)', { notBefore: at(600) }, {}, 'not_yet_valid'],
    ['Not Before within the clock skew', { notBefore: at(30) }, {}, 'accepted'],
    ['issued 10 min in the future (A7)', { issuedAt: at(600) }, {}, 'issued_in_future'],
    ['issued 30 s in the future (skew)', { issuedAt: at(30) }, {}, 'accepted'],
    ['issued a day ago (A7)', { issuedAt: at(-86_400) }, {}, 'too_old'],
    ['issued 11 min ago with default max age 600 s', { issuedAt: at(-660 - 1) }, {}, 'too_old'],
    ['issued a day ago with a longer max age', { issuedAt: at(-86_400) }, { maxAgeSeconds: 2 * 86_400 }, 'accepted'],
    ['wrong nonce', { nonce: 'zzzzZZZZ9999' }, {}, 'nonce'],
    ['nonce smuggling: issued nonce only in statement and Request ID (A6)', { nonce: 'zzzzZZZZ9999', statement: `Nonce: ${NONCE}`, requestId: NONCE }, {}, 'nonce'],
    ['nonce in another case', { nonce: NONCE.toLowerCase() }, {}, 'nonce'],
    ['an impossible date, signed (A7: 2022-02-31)', { issuedAt: '2022-02-31T12:00:00Z' }, {}, 'malformed'],
    ['Version 2, signed (A8)', { version: '2' as '1' }, {}, 'version'],
  ];
  it.each(cases)('%s → %s', async (_name, patch, expected, want) => {
    expect(await outcome(await signedInput(patch, expected))).toBe(want);
  });

  it('refuses a message tampered with after signing', async () => {
    const input = await signedInput();
    const tampered = input.message.replace('Sign in to Carry', 'Sign in to Carry and transfer all funds');
    expect(await outcome({ ...input, message: tampered })).toBe('signature');
  });

  it('refuses a signature made for another address, with the contract-wallet hint', async () => {
    const input = await signedInput({ address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' });
    const err = await verifySiwe(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SiweVerifyError);
    expect((err as SiweVerifyError).reason).toBe('signature');
    expect((err as SiweVerifyError).hint).toMatch(/contract wallet.*RPC service row/);
  });

  it('refuses the same signed text with CRLF line endings (the grammar is LF only)', async () => {
    const input = await signedInput();
    const message = input.message.replace(/\n/g, '\r\n');
    expect(await outcome({ ...input, message, signature: await account.signMessage({ message }) })).toBe('malformed');
  });

  it('refuses a 1 MB message as malformed, fast (A11)', async () => {
    const message = formatSiweMessage(fields({ statement: 'a'.repeat(1024 * 1024) }));
    const t0 = performance.now();
    expect(await outcome({ message, signature: '0x00', expected: EXPECTED })).toBe('malformed');
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it.each(['0x', '0xzz', '0x123', 'abc', `0x${'00'.repeat(10_000)}`])('refuses the signature %#', async (signature) => {
    const input = await signedInput();
    expect(await outcome({ ...input, signature: signature as `0x${string}` })).toBe('signature');
  });

  it('refuses a chain allowlist that is empty', async () => {
    expect(await outcome(await signedInput({}, { chainIds: [] }))).toBe('chain');
  });
});
