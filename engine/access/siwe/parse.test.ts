// Checklist A1 (vectors), A9 (grammar), A11 (size limits), and the A7 calendar check.
import { describe, expect, it } from 'vitest';
import { parseSiweMessage, SiweParseError, SIWE_MAX_MESSAGE_CHARS, SIWE_MAX_RESOURCES, type SiweField } from './parse.ts';
import { readVectors, siwe, withoutNulls } from './test-vectors.ts';

function refusal(text: string): SiweParseError {
  try {
    parseSiweMessage(text);
  } catch (err) {
    if (err instanceof SiweParseError) return err;
    throw err;
  }
  throw new Error(`accepted:\n${text}`);
}

describe('spruceid parsing_positive vectors', () => {
  const cases = Object.entries(siwe.positive());
  it('are all there', () => expect(cases.length).toBe(19));
  it.each(cases)('%s parses to exactly its fields', (_name, v) => {
    expect(parseSiweMessage(v.message)).toStrictEqual(withoutNulls(v.fields));
  });
});

describe('spruceid parsing_negative vectors', () => {
  // The field each refusal must name: "what is wrong", not merely "invalid".
  const expectedField: Record<string, SiweField> = {
    'missing domain': 'domain',
    'missing address': 'address',
    'missing uri': 'uri',
    'missing version': 'version',
    'missing chainId': 'chainId',
    'missing nonce': 'nonce',
    'missing issuedAt': 'issuedAt',
    'out of order uri': 'uri',
    'out of order version': 'version',
    'out of order chainId': 'chainId',
    'out of order nonce': 'nonce',
    'out of order issuedAt': 'issuedAt',
    'out of order expirationTime': 'expirationTime',
    'out of order notBefore': 'notBefore',
    'out of order requestId': 'requestId',
    'out of order resources': 'notBefore', // "Not Before" found after "Resources:"
    'domain not RFC4501 authority': 'domain',
    'address not EIP-55': 'address',
    'statement has line break': 'statement',
    'uri is non-RFC 3986': 'uri',
    'version not 1': 'version',
    'not a valid chainId': 'chainId',
    'nonce with less then 8 chars': 'nonce',
    'non-ISO 8601 issuedAt': 'issuedAt',
    'non-ISO 8601 expirationTime': 'expirationTime',
    'non-ISO 8601 notBefore': 'notBefore',
    'resources not separated by line break': 'resources',
    'first resource not-RFC 3986': 'resources',
    'second resource is not-RFC3986': 'resources',
  };
  const cases = Object.entries(siwe.negative());
  it('are all there', () => {
    expect(cases.length).toBe(29);
    expect(Object.keys(expectedField).sort()).toEqual(cases.map(([n]) => n).sort());
  });
  it.each(cases)('%s is refused by the parser', (name, message) => {
    const err = refusal(message);
    expect(err.field).toBe(expectedField[name]);
    expect(err.line).toBeGreaterThan(0);
  });
  it('reports the line', () => {
    expect(refusal(siwe.negative()['version not 1'])).toMatchObject({ field: 'version', line: 7 });
    expect(refusal(siwe.negative()['address not EIP-55'])).toMatchObject({ field: 'address', line: 2 });
  });
});

const BASE_LINES = [
  'example.com wants you to sign in with your Ethereum account:',
  '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2',
  '',
  'I accept the ExampleOrg Terms of Service: https://example.com/tos',
  '',
  'URI: https://example.com/login',
  'Version: 1',
  'Chain ID: 1',
  'Nonce: 32891756',
  'Issued At: 2021-09-30T16:25:24Z',
];
const BASE = BASE_LINES.join('\n');
const replaceLine = (i: number, line: string) => BASE_LINES.map((l, j) => (j === i ? line : l)).join('\n');
const withTail = (...tail: string[]) => [...BASE_LINES, ...tail].join('\n');

describe('EIP-4361 grammar (A9)', () => {
  const accepted: [string, string, Record<string, unknown>][] = [
    ['explicit http scheme with port', replaceLine(0, 'http://localhost:3000 wants you to sign in with your Ethereum account:'), { scheme: 'http', domain: 'localhost:3000' }],
    ['IPvFuture literal domain', replaceLine(0, '[v1.fe:80] wants you to sign in with your Ethereum account:'), { domain: '[v1.fe:80]' }],
    ['IPv6 with embedded IPv4', replaceLine(0, '[::ffff:192.0.2.1]:8443 wants you to sign in with your Ethereum account:'), { domain: '[::ffff:192.0.2.1]:8443' }],
    ['pct-encoded userinfo', replaceLine(0, 'us%20er:pw@example.com wants you to sign in with your Ethereum account:'), { domain: 'us%20er:pw@example.com' }],
    ['empty statement line', [...BASE_LINES.slice(0, 3), '', ...BASE_LINES.slice(4)].join('\n'), { statement: '' }],
    ['every allowed statement punctuation', replaceLine(3, "a-b._~ :/?#[]@!$&'()*+,;= Z9"), { statement: "a-b._~ :/?#[]@!$&'()*+,;= Z9" }],
    ['URN uri', replaceLine(5, 'URI: urn:isbn:0451450523'), { uri: 'urn:isbn:0451450523' }],
    ['DID uri', replaceLine(5, 'URI: did:pkh:eip155:1:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2'), {}],
    ['uri with query and fragment holding ? and /', replaceLine(5, 'URI: https://a.example/b;c?d=e/f?g#h/i?j'), {}],
    ['uri with empty authority (RFC 3986 allows it)', replaceLine(5, 'URI: file:///etc/hosts'), {}],
    ['lower-case t and z (RFC 3339 §5.6 note)', replaceLine(9, 'Issued At: 2021-09-30t16:25:24z'), {}],
    ['numeric offset and long fraction', replaceLine(9, 'Issued At: 2021-09-30T16:25:24.123456789+05:30'), {}],
    ['29 February of a leap year', replaceLine(9, 'Issued At: 2024-02-29T00:00:00Z'), {}],
    ['leap second at 23:59:60 UTC', replaceLine(9, 'Issued At: 2016-12-31T23:59:60Z'), {}],
    ['leap second written in another offset', replaceLine(9, 'Issued At: 2017-01-01T05:29:60+05:30'), {}],
    ['empty request id', withTail('Request ID: '), { requestId: '' }],
    ['request id of pchar', withTail("Request ID: a:b@c!$&'()*+,;=%20-._~"), {}],
    ['empty resources list', withTail('Resources:'), { resources: [] }],
    ['all optional fields', withTail('Expiration Time: 2021-10-30T16:25:24Z', 'Not Before: 2021-09-30T16:25:24Z', 'Request ID: r1', 'Resources:', '- ipfs://x', '- urn:a'), { resources: ['ipfs://x', 'urn:a'] }],
    ['leading zeros in chain id (1*DIGIT)', replaceLine(7, 'Chain ID: 0010'), { chainId: 10 }],
    ['all-caps checksummed address', replaceLine(1, '0x52908400098527886E0F7030069857D2E4169EE7'), {}],
  ];
  it.each(accepted)('accepts %s', (_name, text, fields) => {
    expect(parseSiweMessage(text)).toMatchObject(fields);
  });

  const refused: [string, string, SiweField][] = [
    ['CRLF line endings', BASE.replace(/\n/g, '\r\n'), 'domain'],
    ['a trailing newline', `${BASE}\n`, 'message'],
    ['leading space in the first line', ` ${BASE}`, 'domain'],
    ['space inside the domain', replaceLine(0, 'exa mple.com wants you to sign in with your Ethereum account:'), 'domain'],
    ['non-digit port', replaceLine(0, 'example.com:http wants you to sign in with your Ethereum account:'), 'domain'],
    ['unclosed IPv6 literal', replaceLine(0, '[::cafe wants you to sign in with your Ethereum account:'), 'domain'],
    ['short IPv6 without ::', replaceLine(0, '[1:2:3] wants you to sign in with your Ethereum account:'), 'domain'],
    ['two :: in IPv6', replaceLine(0, '[1::2::3] wants you to sign in with your Ethereum account:'), 'domain'],
    ['zone id in IPv6 (not RFC 3986)', replaceLine(0, '[fe80::1%25eth0] wants you to sign in with your Ethereum account:'), 'domain'],
    ['scheme with an empty domain', replaceLine(0, 'https:// wants you to sign in with your Ethereum account:'), 'domain'],
    ['scheme starting with a digit', replaceLine(0, '1https://example.com wants you to sign in with your Ethereum account:'), 'scheme'],
    ['path after the domain', replaceLine(0, 'https://example.com/login wants you to sign in with your Ethereum account:'), 'domain'],
    ['different header wording', replaceLine(0, 'example.com wants you to sign in with your ethereum account:'), 'domain'],
    ['address with 39 digits', replaceLine(1, '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc'), 'address'],
    ['address with 0X prefix', replaceLine(1, '0XC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2'), 'address'],
    ['address with one case flipped', replaceLine(1, '0xc02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2'), 'address'],
    ['double quote in statement', replaceLine(3, 'say "yes"'), 'statement'],
    ['percent in statement', replaceLine(3, '100% sure'), 'statement'],
    ['non-ASCII in statement', replaceLine(3, 'café'), 'statement'],
    ['tab in statement', replaceLine(3, 'a\tb'), 'statement'],
    ['statement without the following empty line', [...BASE_LINES.slice(0, 4), ...BASE_LINES.slice(5)].join('\n'), 'statement'],
    ['no empty line after the address', [...BASE_LINES.slice(0, 2), ...BASE_LINES.slice(3)].join('\n'), 'statement'],
    ['space in uri', replaceLine(5, 'URI: https://exa mple.com'), 'uri'],
    ['bad pct-encoding in uri', replaceLine(5, 'URI: https://a.example/%zz'), 'uri'],
    ['relative reference as uri', replaceLine(5, 'URI: //example.com/login'), 'uri'],
    ['empty uri', replaceLine(5, 'URI: '), 'uri'],
    ['no space after URI:', replaceLine(5, 'URI:https://example.com'), 'uri'],
    ['lower-case label', replaceLine(5, 'uri: https://example.com'), 'uri'],
    ['Version 1.0', replaceLine(6, 'Version: 1.0'), 'version'],
    ['Version 2', replaceLine(6, 'Version: 2'), 'version'],
    ['negative chain id', replaceLine(7, 'Chain ID: -1'), 'chainId'],
    ['fractional chain id', replaceLine(7, 'Chain ID: 1.5'), 'chainId'],
    ['chain id beyond 2^53', replaceLine(7, 'Chain ID: 99999999999999999999'), 'chainId'],
    ['nonce with a dash', replaceLine(8, 'Nonce: abcd-efgh'), 'nonce'],
    ['2022-02-31 (A7)', replaceLine(9, 'Issued At: 2022-02-31T17:09:38.578Z'), 'issuedAt'],
    ['29 February of a common year', replaceLine(9, 'Issued At: 2023-02-29T00:00:00Z'), 'issuedAt'],
    ['1900-02-29 (century rule)', replaceLine(9, 'Issued At: 1900-02-29T00:00:00Z'), 'issuedAt'],
    ['month 13', replaceLine(9, 'Issued At: 2021-13-01T00:00:00Z'), 'issuedAt'],
    ['hour 24', replaceLine(9, 'Issued At: 2021-09-30T24:00:00Z'), 'issuedAt'],
    ['minute 60', replaceLine(9, 'Issued At: 2021-09-30T16:60:00Z'), 'issuedAt'],
    ['leap second not at the end of a UTC day', replaceLine(9, 'Issued At: 2021-09-30T16:25:60Z'), 'issuedAt'],
    ['no time offset', replaceLine(9, 'Issued At: 2021-09-30T16:25:24'), 'issuedAt'],
    ['space instead of T', replaceLine(9, 'Issued At: 2021-09-30 16:25:24Z'), 'issuedAt'],
    ['one-digit offset hour', replaceLine(9, 'Issued At: 2021-09-30T16:25:24+2:00'), 'issuedAt'],
    ['empty fraction', replaceLine(9, 'Issued At: 2021-09-30T16:25:24.Z'), 'issuedAt'],
    ['date only', replaceLine(9, 'Issued At: 2021-09-30'), 'issuedAt'],
    ['request id with a space', withTail('Request ID: a b'), 'requestId'],
    ['request id with a slash (not pchar)', withTail('Request ID: a/b'), 'requestId'],
    ['resource without the space', withTail('Resources:', '-https://x.example'), 'resources'],
    ['empty resource', withTail('Resources:', '- '), 'resources'],
    ['text after "Resources:"', withTail('Resources: https://x.example'), 'resources'],
    ['a repeated Nonce line', withTail('Nonce: 32891756'), 'nonce'],
    ['Expiration Time twice', withTail('Expiration Time: 2021-10-30T16:25:24Z', 'Expiration Time: 2021-10-30T16:25:24Z'), 'expirationTime'],
    ['an unknown line after the fields', withTail('Foo: bar'), 'message'],
    ['a message cut before Issued At', BASE_LINES.slice(0, 9).join('\n'), 'issuedAt'],
    ['only the first line', BASE_LINES[0], 'address'],
  ];
  it.each(refused)('refuses %s', (_name, text, field) => {
    expect(refusal(text).field).toBe(field);
  });
});

describe('EIP-55 vectors on the address line', () => {
  const v = readVectors<{ valid_checksummed: Record<string, string[]>; derived_invalid_mixed_case: { input: string }[]; toChecksumAddress_example: { input: string; output: string } }>('eip-55', 'eip55_test_cases.json');
  const valid = Object.values(v.valid_checksummed).flat();
  it.each(valid)('accepts %s', (address) => {
    expect(parseSiweMessage(replaceLine(1, address)).address).toBe(address);
  });
  it.each(v.derived_invalid_mixed_case.map((c) => c.input))('refuses %s', (address) => {
    expect(refusal(replaceLine(1, address))).toMatchObject({ field: 'address', line: 2 });
  });
  it('refuses the lower-case form of a mixed-case address, naming the checksum', () => {
    const err = refusal(replaceLine(1, v.toChecksumAddress_example.input));
    expect(err.reason).toContain(v.toChecksumAddress_example.output);
  });
});

describe('size limits (A11)', () => {
  it('refuses a 1 MB statement by size, fast', () => {
    const text = replaceLine(3, 'a'.repeat(1024 * 1024));
    const t0 = performance.now();
    expect(refusal(text)).toMatchObject({ field: 'message', line: 0 });
    expect(performance.now() - t0).toBeLessThan(50);
  });
  it('refuses 10,000 resources fast', () => {
    const text = withTail('Resources:', ...Array.from({ length: 10_000 }, (_, i) => `- https://example.com/${i}`));
    const t0 = performance.now();
    refusal(text);
    expect(performance.now() - t0).toBeLessThan(50);
  });
  it(`refuses more than ${SIWE_MAX_RESOURCES} resources even when the text is small`, () => {
    const text = withTail('Resources:', ...Array.from({ length: SIWE_MAX_RESOURCES + 1 }, () => '- a:b'));
    expect(text.length).toBeLessThan(SIWE_MAX_MESSAGE_CHARS);
    expect(refusal(text).field).toBe('resources');
    const ok = withTail('Resources:', ...Array.from({ length: SIWE_MAX_RESOURCES }, () => '- a:b'));
    expect(parseSiweMessage(ok).resources).toHaveLength(SIWE_MAX_RESOURCES);
  });
  it('accepts a message exactly at the limit and refuses one character more', () => {
    const filler = SIWE_MAX_MESSAGE_CHARS - BASE.length + BASE_LINES[3].length;
    const atLimit = replaceLine(3, 'a'.repeat(filler));
    expect(atLimit.length).toBe(SIWE_MAX_MESSAGE_CHARS);
    const t0 = performance.now();
    expect(parseSiweMessage(atLimit).statement).toHaveLength(filler);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(refusal(replaceLine(3, 'a'.repeat(filler + 1))).field).toBe('message');
  });
  it('refuses a non-string', () => {
    expect(refusal(42 as unknown as string).field).toBe('message');
  });
});
