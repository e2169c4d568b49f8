import { describe, expect, it } from 'vitest';
import { buildSiweMessage, formatSiweMessage } from './message.ts';
import { parseSiweMessage, SiweParseError, type SiweMessage, type SiweField } from './parse.ts';
import { siwe, withoutNulls } from './test-vectors.ts';

const FULL: SiweMessage = {
  scheme: 'https',
  domain: 'carry.example',
  address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  statement: 'Sign in to Carry',
  uri: 'https://carry.example/login',
  version: '1',
  chainId: 42161,
  nonce: 'abcdEFGH1234',
  issuedAt: '2026-01-02T03:04:05.678Z',
  expirationTime: '2026-01-02T03:14:05Z',
  notBefore: '2026-01-02T03:04:00+00:00',
  requestId: 'req-1',
  resources: ['https://carry.example/terms', 'ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/'],
};

function refusal(fn: () => unknown): SiweParseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SiweParseError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('buildSiweMessage', () => {
  it.each(Object.entries(siwe.positive()))('writes vector %s byte for byte from its fields', (_name, v) => {
    const fields = withoutNulls(v.fields) as unknown as SiweMessage;
    expect(buildSiweMessage(fields)).toBe(v.message);
  });

  const shapes: [string, SiweMessage][] = [
    ['every field', FULL],
    ['no optional field', { domain: 'carry.example', address: FULL.address, uri: 'https://carry.example', version: '1', chainId: 1, nonce: '12345678', issuedAt: '2026-01-02T03:04:05Z' }],
    ['empty statement, empty request id, empty resources', { ...FULL, statement: '', requestId: '', resources: [] }],
  ];
  it.each(shapes)('parse(build(x)) deep-equals x: %s', (_name, fields) => {
    expect(parseSiweMessage(buildSiweMessage(fields))).toStrictEqual(fields);
  });

  const injections: [string, Partial<SiweMessage>, SiweField][] = [
    ['a statement that opens a new URI line', { statement: 'hi\n\nURI: https://evil.example' }, 'statement'],
    ['a request id that appends resources', { requestId: 'x\nResources:\n- https://evil.example' }, 'requestId'],
    ['a domain carrying a whole header', { domain: 'evil.example wants you to sign in with your Ethereum account:\n0x0' }, 'domain'],
    ['a nonce with a line break', { nonce: 'abcdEFGH\nRequest ID: 1' }, 'nonce'],
    ['a resource with a line break', { resources: ['https://a.example\n- https://evil.example'] }, 'resources'],
  ];
  it.each(injections)('refuses %s', (_name, patch, field) => {
    const err = refusal(() => buildSiweMessage({ ...FULL, ...patch }));
    expect(err.field).toBe(field);
  });

  it('refuses fields whose text parses back to different fields', () => {
    // No line break, valid text — but it reads back as scheme "https" + domain "carry.example".
    const { scheme: _omit, ...noScheme } = FULL;
    const err = refusal(() => buildSiweMessage({ ...noScheme, domain: 'https://carry.example' }));
    expect(err.field).toBe('scheme');
    expect(err.reason).toContain('does not survive formatting');
  });

  it('formatSiweMessage writes without checking (for deliberately invalid vectors)', () => {
    const text = formatSiweMessage({ ...FULL, issuedAt: '2022-02-31T00:00:00Z' });
    expect(text).toContain('Issued At: 2022-02-31T00:00:00Z');
    expect(refusal(() => buildSiweMessage({ ...FULL, issuedAt: '2022-02-31T00:00:00Z' })).field).toBe('issuedAt');
  });
});

describe('spruceid parsing_negative_objects vectors', () => {
  const expectedField: Record<string, SiweField> = {
    'missing domain': 'domain',
    'missing address': 'address',
    'missing uri': 'uri',
    'missing version': 'version',
    'missing chainId': 'chainId',
    'missing nonce': 'nonce',
    'missing issuedAt': 'issuedAt',
    'domain not RFC4501 authority': 'domain',
    'address not EIP-55': 'address',
    'uri is non-RFC 3986': 'uri',
    'version not 1': 'version',
    'not a valid chainId': 'chainId',
    'nonce with less then 8 chars': 'nonce',
    'non-ISO 8601 issuedAt': 'issuedAt',
    'non-ISO 8601 expirationTime': 'expirationTime',
    'non-ISO 8601 notBefore': 'notBefore',
    'first resource not-RFC 3986': 'resources',
    'second resource is not-RFC3986': 'resources',
  };
  const cases = Object.entries(siwe.negativeObjects());
  it('are all there', () => {
    expect(cases.length).toBe(18);
    expect(Object.keys(expectedField).sort()).toEqual(cases.map(([n]) => n).sort());
  });
  it.each(cases)('%s is refused by buildSiweMessage', (name, fields) => {
    expect(refusal(() => buildSiweMessage(fields as unknown as SiweMessage)).field).toBe(expectedField[name]);
  });
});
