// Verifies a signed SIWE message against what the relying party expects.
//
// Order of checks: grammar → version → domain → URI → chain → nonce → time window → signature.
// Everything that needs no key material or network comes first, so a message that is wrong
// for this site never costs a signature recovery or an RPC round trip.
//
// What this does NOT do: consume the nonce. The caller must mark the returned nonce used in
// the same transaction that creates the session (single use is the replay protection, A3).

import type { Address, Hex } from 'viem';
import { parseSiweMessage, siweTime, SiweParseError, type SiweMessage } from './parse.ts';
import { checkContractSignature, checkEoaSignature, signatureShapeProblem, type ContractReader } from './signature.ts';

export type SiweVerifyReason =
  | 'malformed'
  | 'domain'
  | 'uri'
  | 'version'
  | 'chain'
  | 'nonce'
  | 'issued_in_future'
  | 'too_old'
  | 'expired'
  | 'not_yet_valid'
  | 'signature'
  | 'contract_wallet_no_rpc'
  | 'contract_wallet_rejected';

export class SiweVerifyError extends Error {
  /** Stable code for callers and error rows; never reworded. */
  readonly reason: SiweVerifyReason;
  /** What to do about it, when there is something (e.g. configure an RPC service row). */
  readonly hint?: string;
  constructor(reason: SiweVerifyReason, detail: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`SIWE ${reason}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SiweVerifyError';
    this.reason = reason;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

export interface SiweExpectations {
  /** The site's own authority ("carry.example", "localhost:3000") or origin ("http://localhost:3000").
   *  From configuration only — never from the request's Host / X-Forwarded-Host (A5). */
  domain: string;
  /** An origin the message's URI must be on, e.g. "https://carry.example". */
  uri?: string;
  /** Chain ids this site accepts. */
  chainIds: number[];
  /** The nonce this site issued for this sign-in; compared exactly with the Nonce line only. */
  nonce?: string;
  now?: Date;
  /** Tolerance for the client's clock, in seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Issued At must not be older than this, in seconds. Default 600. Infinity disables it. */
  maxAgeSeconds?: number;
}

export interface SiweVerifyInput {
  message: string;
  signature: `0x${string}`;
  expected: SiweExpectations;
  /** A viem PublicClient (or anything with its readContract) for the chain, or null when the
   *  definition has no RPC service row for it. Only used when plain recovery fails. */
  publicClientFor?: (chainId: number) => ContractReader | null | undefined | Promise<ContractReader | null | undefined>;
}

export interface SiweVerified {
  address: Address;
  chainId: number;
  nonce: string;
  fields: SiweMessage;
  /** Which check accepted the signature: offline EIP-191 recovery or an EIP-1271 call. */
  method: 'eip191' | 'eip1271';
}

const DEFAULT_PORTS: Record<string, string> = { https: '443', http: '80' };

/** scheme + authority, lower-cased, with the scheme's default port dropped. */
function normalOrigin(scheme: string, authority: string): string {
  const s = scheme.toLowerCase();
  let a = authority.toLowerCase();
  const port = DEFAULT_PORTS[s];
  if (port !== undefined && a.endsWith(`:${port}`)) a = a.slice(0, -port.length - 1);
  return `${s}://${a}`;
}

function expectedOrigin(domain: string): string {
  const sep = domain.indexOf('://');
  const scheme = sep === -1 ? 'https' : domain.slice(0, sep);
  const authority = (sep === -1 ? domain : domain.slice(sep + 3)).replace(/\/$/, '');
  return normalOrigin(scheme, authority);
}

/** WHATWG origin of a URI, or null for opaque origins and URIs carrying credentials. */
function uriOrigin(uri: string): string | null {
  try {
    const u = new URL(uri);
    if (u.username !== '' || u.password !== '') return null;
    return u.origin === 'null' ? null : u.origin;
  } catch {
    return null;
  }
}

function checkOptions(e: SiweExpectations): { nowMs: number; skewMs: number; maxAgeMs: number } {
  const nowMs = (e.now ?? new Date()).getTime();
  if (!Number.isFinite(nowMs)) throw new TypeError('expected.now is an invalid Date');
  const skew = e.clockSkewSeconds ?? 60;
  const maxAge = e.maxAgeSeconds ?? 600;
  if (!Number.isFinite(skew) || skew < 0) throw new TypeError('expected.clockSkewSeconds must be a finite number ≥ 0');
  if (Number.isNaN(maxAge) || maxAge < 0) throw new TypeError('expected.maxAgeSeconds must be ≥ 0 (Infinity disables it)');
  return { nowMs, skewMs: skew * 1000, maxAgeMs: maxAge * 1000 };
}

function checkTimes(f: SiweMessage, e: SiweExpectations): void {
  const { nowMs, skewMs, maxAgeMs } = checkOptions(e);
  const now = new Date(nowMs).toISOString();
  if (f.expirationTime !== undefined && nowMs - skewMs >= siweTime(f.expirationTime)) {
    throw new SiweVerifyError('expired', `expired at ${f.expirationTime} (now ${now})`);
  }
  if (f.notBefore !== undefined && nowMs + skewMs < siweTime(f.notBefore)) {
    throw new SiweVerifyError('not_yet_valid', `not valid before ${f.notBefore} (now ${now})`);
  }
  const issued = siweTime(f.issuedAt);
  if (issued > nowMs + skewMs) {
    throw new SiweVerifyError('issued_in_future', `issued at ${f.issuedAt}, after now (${now}) plus ${skewMs / 1000}s skew`);
  }
  if (nowMs - issued > maxAgeMs + skewMs) {
    throw new SiweVerifyError('too_old', `issued at ${f.issuedAt}, more than ${maxAgeMs / 1000}s before now (${now})`);
  }
}

function checkFields(f: SiweMessage, e: SiweExpectations): void {
  const got = normalOrigin(f.scheme ?? 'https', f.domain);
  const want = expectedOrigin(e.domain);
  if (got !== want) throw new SiweVerifyError('domain', `message is for ${got}, this site is ${want}`);

  if (e.uri !== undefined) {
    const wantUri = uriOrigin(e.uri);
    if (wantUri === null) throw new TypeError(`expected.uri ${JSON.stringify(e.uri)} has no origin`);
    const gotUri = uriOrigin(f.uri);
    if (gotUri !== wantUri) throw new SiweVerifyError('uri', `URI ${f.uri} is not on ${wantUri}`);
  }
  if (!e.chainIds.includes(f.chainId)) {
    throw new SiweVerifyError('chain', `chain ${f.chainId} is not accepted (accepted: ${e.chainIds.join(', ') || 'none'})`);
  }
  // Exact comparison with the Nonce line only: an issued nonce that appears in the statement
  // or Request ID proves nothing (nonce smuggling, A6).
  if (e.nonce !== undefined && f.nonce !== e.nonce) throw new SiweVerifyError('nonce', 'nonce does not match the one issued');
  checkTimes(f, e);
}

const CONTRACT_HINT = 'If this address is a contract wallet (EIP-1271), its signature can only be checked on-chain: add an RPC service row for this chain id.';

/**
 * Parses, checks and verifies a signed SIWE message. Throws SiweVerifyError with a stable
 * `reason`; returns the address, chain id and nonce for the caller to consume the nonce and
 * open a session.
 *
 * Contract wallets: when plain recovery fails and `publicClientFor(chainId)` gives a client
 * for the message's chain, EIP-1271 isValidSignature decides. Without a client the reason is
 * 'signature' (with a hint): whether the address has contract code cannot be known without
 * an RPC, so a caller that does know (e.g. from an indexer) maps that case to
 * 'contract_wallet_no_rpc' itself. 'contract_wallet_no_rpc' is raised here only when a client
 * exists but its transport fails (or publicClientFor throws).
 */
export async function verifySiwe(input: SiweVerifyInput): Promise<SiweVerified> {
  let fields: SiweMessage;
  try {
    fields = parseSiweMessage(input.message);
  } catch (err) {
    if (!(err instanceof SiweParseError)) throw err;
    throw new SiweVerifyError(err.field === 'version' ? 'version' : 'malformed', err.message, { cause: err });
  }
  checkFields(fields, input.expected);

  const shape = signatureShapeProblem(input.signature);
  if (shape !== null) throw new SiweVerifyError('signature', shape);
  const signature = input.signature as Hex;
  const result = { address: fields.address, chainId: fields.chainId, nonce: fields.nonce, fields };

  const eoa = await checkEoaSignature(input.message, signature, fields.address);
  if (eoa.ok) return { ...result, method: 'eip191' };

  let client: ContractReader | null | undefined;
  try {
    // The contract MUST be resolved on the message's chain id (EIP-4361), never another.
    client = await input.publicClientFor?.(fields.chainId);
  } catch (err) {
    throw new SiweVerifyError('contract_wallet_no_rpc', `no RPC client for chain ${fields.chainId}: ${(err as Error).message}`, { cause: err });
  }
  if (client === null || client === undefined) {
    throw new SiweVerifyError('signature', eoa.detail, { hint: CONTRACT_HINT });
  }
  const contract = await checkContractSignature(client, fields.address, input.message, signature);
  switch (contract.outcome) {
    case 'valid':
      return { ...result, method: 'eip1271' };
    case 'rejected':
      throw new SiweVerifyError('contract_wallet_rejected', contract.detail);
    case 'unreachable':
      throw new SiweVerifyError('contract_wallet_no_rpc', contract.detail, { hint: 'Check the RPC service row for this chain id.' });
    case 'failed':
      throw new SiweVerifyError('signature', `${eoa.detail}; ${contract.detail}`);
  }
}
