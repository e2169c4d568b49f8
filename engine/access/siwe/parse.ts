// Strict parser of Sign-In with Ethereum messages (EIP-4361 / ERC-4361 ABNF).
//
// Why our own: viem's parseSiweMessage is a lenient regex extractor — it accepts messages the
// grammar forbids (missing fields, wrong order, non-checksummed addresses, impossible dates).
// A relying party must check the message against the ABNF before trusting any field (EIP-4361
// "Verifying a signed Message"), so this parser accepts exactly the grammar and says what is
// wrong when it refuses.
//
// Grammar (LF only, no trailing newline):
//   [ scheme "://" ] domain " wants you to sign in with your Ethereum account:" LF
//   address LF
//   LF
//   [ statement LF ]
//   LF
//   "URI: " uri LF  "Version: " version LF  "Chain ID: " chain-id LF  "Nonce: " nonce LF
//   "Issued At: " issued-at
//   [ LF "Expiration Time: " date-time ] [ LF "Not Before: " date-time ]
//   [ LF "Request ID: " *pchar ] [ LF "Resources:" *( LF "- " URI ) ]

import { checksumAddress } from 'viem';
import { isDigit, isAlpha, isHexDigit, isPcharString, isScheme, isStatementChar, isUri, parseAuthority, parseDateTime } from './grammar.ts';

/** Refuse anything longer before looking at it: keeps parsing cost bounded whatever is sent. */
export const SIWE_MAX_MESSAGE_CHARS = 16 * 1024;
export const SIWE_MAX_RESOURCES = 1000;

export interface SiweMessage {
  /** Present only when the first line starts with "scheme://". Absent means https. */
  scheme?: string;
  /** RFC 3986 authority: [userinfo "@"] host [":" port]. */
  domain: string;
  /** EIP-55 checksummed, exactly as written in the message. */
  address: `0x${string}`;
  /** Absent when the message has no statement line; "" when the line is present but empty. */
  statement?: string;
  uri: string;
  version: '1';
  chainId: number;
  nonce: string;
  /** RFC 3339 date-times, kept exactly as written (they are part of what was signed). */
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

export type SiweField = keyof SiweMessage | 'message';

export class SiweParseError extends Error {
  readonly field: SiweField;
  readonly reason: string;
  /** 1-based line of the message where the problem is (0 when it concerns the whole text). */
  readonly line: number;
  constructor(field: SiweField, reason: string, line: number) {
    super(line > 0 ? `SIWE message line ${line} (${field}): ${reason}` : `SIWE message (${field}): ${reason}`);
    this.name = 'SiweParseError';
    this.field = field;
    this.reason = reason;
    this.line = line;
  }
}

const HEADER_SUFFIX = ' wants you to sign in with your Ethereum account:';

/** The labelled lines after the statement, in the only order the grammar allows. */
const LABELS = [
  ['uri', 'URI: '],
  ['version', 'Version: '],
  ['chainId', 'Chain ID: '],
  ['nonce', 'Nonce: '],
  ['issuedAt', 'Issued At: '],
  ['expirationTime', 'Expiration Time: '],
  ['notBefore', 'Not Before: '],
  ['requestId', 'Request ID: '],
  ['resources', 'Resources:'],
] as const;
const FIRST_OPTIONAL = 5;

type LabelField = (typeof LABELS)[number][0];

function labelOf(line: string): number {
  for (let i = 0; i < LABELS.length; i++) if (line.startsWith(LABELS[i][1])) return i;
  return -1;
}

/** Printable for an error message: short, with control characters made visible. */
function show(s: string): string {
  const cut = s.length > 60 ? `${s.slice(0, 60)}…` : s;
  return JSON.stringify(cut);
}

/** EIP-55: "0x" + 40 hex digits whose letter case matches the keccak checksum. */
export function checkAddress(s: string): string | null {
  if (s.length !== 42 || !s.startsWith('0x')) return 'address must be "0x" followed by 40 hex digits';
  for (let i = 2; i < 42; i++) if (!isHexDigit(s.charCodeAt(i))) return 'address must be "0x" followed by 40 hex digits';
  const expected = checksumAddress(s.toLowerCase() as `0x${string}`);
  if (expected !== s) return `address is not EIP-55 checksummed (expected ${expected})`;
  return null;
}

function checkFirstLine(line: string, out: Partial<SiweMessage>): void {
  if (!line.endsWith(HEADER_SUFFIX)) {
    throw new SiweParseError('domain', `first line must be "<domain>${HEADER_SUFFIX}"`, 1);
  }
  let domain = line.slice(0, line.length - HEADER_SUFFIX.length);
  // An authority never contains "/", so "://" can only be the scheme separator.
  const sep = domain.indexOf('://');
  if (sep !== -1) {
    const scheme = domain.slice(0, sep);
    if (!isScheme(scheme)) throw new SiweParseError('scheme', `${show(scheme)} is not an RFC 3986 scheme`, 1);
    out.scheme = scheme;
    domain = domain.slice(sep + 3);
  }
  const authority = parseAuthority(domain);
  if (authority === null) throw new SiweParseError('domain', `${show(domain)} is not an RFC 3986 authority`, 1);
  // RFC 3986 lets reg-name be empty, but EIP-4361 makes the domain REQUIRED: a relying party
  // cannot bind a message that names no host.
  if (authority.host === '') throw new SiweParseError('domain', 'domain is missing (empty host)', 1);
  out.domain = domain;
}

function checkStatement(line: string, lineNo: number): void {
  for (let i = 0; i < line.length; i++) {
    if (!isStatementChar(line.charCodeAt(i))) {
      throw new SiweParseError('statement', `character ${JSON.stringify(line[i])} at column ${i + 1} is not allowed (RFC 3986 reserved / unreserved / space only)`, lineNo);
    }
  }
}

function checkNonce(value: string, lineNo: number): void {
  if (value.length < 8) throw new SiweParseError('nonce', `nonce must be at least 8 characters, got ${value.length}`, lineNo);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isAlpha(c) && !isDigit(c)) throw new SiweParseError('nonce', `nonce must be letters and digits only; found ${JSON.stringify(value[i])}`, lineNo);
  }
}

function checkChainId(value: string, lineNo: number): number {
  if (value.length === 0) throw new SiweParseError('chainId', 'chain id is empty', lineNo);
  for (let i = 0; i < value.length; i++) {
    if (!isDigit(value.charCodeAt(i))) throw new SiweParseError('chainId', `chain id must be decimal digits, got ${show(value)}`, lineNo);
  }
  const n = Number(value);
  // Beyond 2^53 a JS number would silently change the value that was signed.
  if (!Number.isSafeInteger(n)) throw new SiweParseError('chainId', `chain id ${show(value)} is too large`, lineNo);
  return n;
}

function checkDate(field: 'issuedAt' | 'expirationTime' | 'notBefore', value: string, lineNo: number): void {
  const parsed = parseDateTime(value);
  if (typeof parsed === 'string') throw new SiweParseError(field, `${show(value)}: ${parsed}`, lineNo);
}

/** Reads the value of one labelled line into `out`. */
function readField(field: LabelField, value: string, lineNo: number, out: Partial<SiweMessage>): void {
  switch (field) {
    case 'uri':
      if (!isUri(value)) throw new SiweParseError('uri', `${show(value)} is not an RFC 3986 URI`, lineNo);
      out.uri = value;
      return;
    case 'version':
      if (value !== '1') throw new SiweParseError('version', `unsupported version ${show(value)} (only "1" exists)`, lineNo);
      out.version = '1';
      return;
    case 'chainId':
      out.chainId = checkChainId(value, lineNo);
      return;
    case 'nonce':
      checkNonce(value, lineNo);
      out.nonce = value;
      return;
    case 'issuedAt':
    case 'expirationTime':
    case 'notBefore':
      checkDate(field, value, lineNo);
      out[field] = value;
      return;
    case 'requestId':
      if (!isPcharString(value)) throw new SiweParseError('requestId', `${show(value)} is not *pchar (RFC 3986)`, lineNo);
      out.requestId = value;
      return;
    case 'resources':
      if (value !== '') throw new SiweParseError('resources', '"Resources:" must end the line; list each resource on its own "- " line', lineNo);
      out.resources = [];
      return;
  }
}

/**
 * Parses and validates a SIWE message against the EIP-4361 ABNF.
 * Throws SiweParseError naming the field, the reason and the 1-based line.
 */
export function parseSiweMessage(text: string): SiweMessage {
  if (typeof text !== 'string') throw new SiweParseError('message', 'message must be a string', 0);
  if (text.length > SIWE_MAX_MESSAGE_CHARS) {
    throw new SiweParseError('message', `message is ${text.length} characters; the limit is ${SIWE_MAX_MESSAGE_CHARS}`, 0);
  }
  const lines = text.split('\n');
  const out: Partial<SiweMessage> = {};

  checkFirstLine(lines[0], out);

  if (lines.length < 2 || lines[1] === '') throw new SiweParseError('address', 'address line is missing', 2);
  const addressProblem = checkAddress(lines[1]);
  if (addressProblem !== null) throw new SiweParseError('address', addressProblem, 2);
  out.address = lines[1] as `0x${string}`;

  if (lines.length < 3 || lines[2] !== '') throw new SiweParseError('statement', 'an empty line must follow the address', 3);

  // address LF LF [ statement LF ] LF "URI: " — three LFs before "URI: " mean no statement,
  // four mean an empty statement (the grammar's statement is *( … ), so it may be empty).
  if (lines.length < 5) throw new SiweParseError('uri', 'message ends before "URI: "', lines.length + 1);
  let i: number;
  if (lines[3] === '' && lines[4].startsWith('URI: ')) {
    i = 4;
  } else if (lines[3] === '' && lines[4] !== '') {
    throw new SiweParseError('uri', `expected "URI:" but found ${show(lines[4])}`, 5);
  } else {
    checkStatement(lines[3], 4);
    if (lines[4] !== '') throw new SiweParseError('statement', 'the statement must be a single line followed by an empty line', 5);
    out.statement = lines[3];
    i = 5;
  }

  // Labelled lines: required ones in fixed order, then optional ones, each at most once.
  let next = 0; // index into LABELS of the earliest label allowed at this point
  while (i < lines.length) {
    const line = lines[i];
    const lineNo = i + 1;
    if (next >= LABELS.length) break; // only "- " resource lines may follow "Resources:"
    const found = labelOf(line);
    if (found === -1 || found < next || (found > next && next < FIRST_OPTIONAL)) {
      const want = LABELS[next][1].trim();
      const what = line === '' ? 'an empty line' : show(line);
      // A required field not where it must be is that field's error; a misplaced optional
      // one is the misplaced field's error.
      if (next < FIRST_OPTIONAL) {
        const order = found === -1 ? '' : ' (fields are out of order)';
        throw new SiweParseError(LABELS[next][0], `expected "${want}" but found ${what}${order}`, lineNo);
      }
      if (found === -1) {
        const extra = line === '' ? 'empty line (no trailing newline is allowed)' : `line ${show(line)}`;
        throw new SiweParseError('message', `unexpected ${extra} after the last field`, lineNo);
      }
      throw new SiweParseError(LABELS[found][0], `"${LABELS[found][1].trim()}" is out of order or repeated`, lineNo);
    }
    readField(LABELS[found][0], line.slice(LABELS[found][1].length), lineNo, out);
    next = found + 1;
    i++;
  }
  if (next < FIRST_OPTIONAL) {
    throw new SiweParseError(LABELS[next][0], `message ends before "${LABELS[next][1].trim()}"`, lines.length + 1);
  }

  if (out.resources !== undefined) {
    for (; i < lines.length; i++) {
      const line = lines[i];
      if (out.resources.length >= SIWE_MAX_RESOURCES) {
        throw new SiweParseError('resources', `more than ${SIWE_MAX_RESOURCES} resources`, i + 1);
      }
      const label = labelOf(line);
      if (label !== -1) {
        throw new SiweParseError(LABELS[label][0], `"${LABELS[label][1].trim()}" is out of order or repeated (after "Resources:")`, i + 1);
      }
      if (!line.startsWith('- ')) {
        const what = line === '' ? 'an empty line (no trailing newline is allowed)' : show(line);
        throw new SiweParseError('resources', `expected "- <URI>" but found ${what}`, i + 1);
      }
      const uri = line.slice(2);
      if (!isUri(uri)) throw new SiweParseError('resources', `${show(uri)} is not an RFC 3986 URI`, i + 1);
      out.resources.push(uri);
    }
  }
  return out as SiweMessage;
}

/** Epoch milliseconds of a date-time already accepted by parseSiweMessage. */
export function siweTime(value: string): number {
  const t = parseDateTime(value);
  if (typeof t === 'string') throw new TypeError(`not an RFC 3339 date-time: ${value}`);
  return t;
}
