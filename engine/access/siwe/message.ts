// Writes SIWE messages in the one canonical layout of EIP-4361, for the web client (which asks
// the wallet to sign it) and for tests. parseSiweMessage(buildSiweMessage(x)) deep-equals x.

import { parseSiweMessage, SiweParseError, type SiweMessage } from './parse.ts';

/**
 * Lays the fields out as text without checking them. Use it only where a deliberately invalid
 * message is wanted (tests replaying vectors with impossible dates); everything else should
 * call buildSiweMessage.
 */
export function formatSiweMessage(fields: SiweMessage): string {
  const prefix = fields.scheme !== undefined ? `${fields.scheme}://` : '';
  const lines = [`${prefix}${fields.domain} wants you to sign in with your Ethereum account:`, fields.address, ''];
  if (fields.statement !== undefined) lines.push(fields.statement);
  lines.push(
    '',
    `URI: ${fields.uri}`,
    `Version: ${fields.version}`,
    `Chain ID: ${fields.chainId}`,
    `Nonce: ${fields.nonce}`,
    `Issued At: ${fields.issuedAt}`,
  );
  if (fields.expirationTime !== undefined) lines.push(`Expiration Time: ${fields.expirationTime}`);
  if (fields.notBefore !== undefined) lines.push(`Not Before: ${fields.notBefore}`);
  if (fields.requestId !== undefined) lines.push(`Request ID: ${fields.requestId}`);
  if (fields.resources !== undefined) {
    lines.push('Resources:');
    for (const r of fields.resources) lines.push(`- ${r}`);
  }
  return lines.join('\n');
}

const FIELD_ORDER: (keyof SiweMessage)[] = [
  'scheme', 'domain', 'address', 'statement', 'uri', 'version', 'chainId', 'nonce',
  'issuedAt', 'expirationTime', 'notBefore', 'requestId', 'resources',
];

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

const REQUIRED_STRINGS = ['domain', 'address', 'uri', 'nonce', 'issuedAt'] as const;
const OPTIONAL_STRINGS = ['scheme', 'statement', 'expirationTime', 'notBefore', 'requestId'] as const;

/** Field objects come from JSON and JS callers too: a missing value must not become "undefined". */
function checkFieldTypes(fields: SiweMessage): void {
  const f = fields as unknown as Record<string, unknown>;
  if (f === null || typeof f !== 'object') throw new SiweParseError('message', 'fields must be an object', 0);
  for (const key of REQUIRED_STRINGS) {
    if (typeof f[key] !== 'string') throw new SiweParseError(key, `${key} is required and must be a string`, 0);
  }
  for (const key of OPTIONAL_STRINGS) {
    if (f[key] !== undefined && typeof f[key] !== 'string') throw new SiweParseError(key, `${key} must be a string when present`, 0);
  }
  if (f.version !== '1') throw new SiweParseError('version', 'version must be "1"', 0);
  if (typeof f.chainId !== 'number' || !Number.isSafeInteger(f.chainId) || f.chainId < 0) {
    throw new SiweParseError('chainId', 'chainId must be a non-negative safe integer', 0);
  }
  if (f.resources !== undefined && (!Array.isArray(f.resources) || !f.resources.every((r) => typeof r === 'string'))) {
    throw new SiweParseError('resources', 'resources must be an array of strings when present', 0);
  }
  // Every value sits on one line: a line break would let a value write other fields.
  for (const key of [...REQUIRED_STRINGS, ...OPTIONAL_STRINGS]) {
    if (typeof f[key] === 'string' && (f[key] as string).includes('\n')) throw new SiweParseError(key, `${key} must not contain a line break`, 0);
  }
  if (Array.isArray(f.resources) && f.resources.some((r: string) => r.includes('\n'))) {
    throw new SiweParseError('resources', 'a resource must not contain a line break', 0);
  }
}

/**
 * Writes a message and proves it valid: the text must parse (throws SiweParseError otherwise)
 * and parse back to exactly these fields. The second check catches values that smuggle a line
 * break — e.g. a statement "x\n\nURI: https://evil" — which could otherwise re-shape the text.
 */
export function buildSiweMessage(fields: SiweMessage): string {
  checkFieldTypes(fields);
  const text = formatSiweMessage(fields);
  const back = parseSiweMessage(text);
  for (const key of FIELD_ORDER) {
    if (!sameValue(fields[key], back[key])) {
      throw new SiweParseError(key, `value ${JSON.stringify(fields[key])} does not survive formatting (a line break or a misplaced label?)`, 0);
    }
  }
  return text;
}
