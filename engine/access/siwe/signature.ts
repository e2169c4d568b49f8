// Signature checks for SIWE: EIP-191 personal_sign recovery for plain accounts, EIP-1271
// isValidSignature for contract wallets.
//
// Malleability policy (checklist A12). An ECDSA signature (r, s, v) has twins that recover the
// same address: (r, n − s, v ^ 1) — the "high-s" twin — and the same (r, s) written with
// v = 0/1 instead of 27/28. viem normalises both (it recovers from either), so the policy is
// enforced here, before viem sees the signature:
//   - v ∈ {27, 28} or {0, 1}: ACCEPTED. Both spell the same recovery bit, and some hardware
//     wallets (Ledger) emit 0/1; refusing them would lock real users out for no gain.
//   - high-s (s > n/2): REFUSED on the offline path (EIP-2 low-s rule). No conforming wallet
//     signs with high s (RFC 6979 signers normalise), so a high-s signature is a derived twin.
//   - anything but 65 bytes (e.g. EIP-2098 64-byte compact): REFUSED on the offline path.
// None of this is what stops replay: the replay key is the single-use nonce that the caller
// consumes, never the signature bytes (two encodings of one signature are one sign-in).
// Contract wallets get the signature bytes verbatim; their own code decides what they accept.

import { hashMessage, recoverMessageAddress, type Address, type Hex } from 'viem';

export const EIP1271_MAGIC_VALUE = '0x1626ba7e';

export const eip1271Abi = [
  {
    type: 'function',
    name: 'isValidSignature',
    stateMutability: 'view',
    inputs: [
      { name: 'hash', type: 'bytes32' },
      { name: 'signature', type: 'bytes' },
    ],
    outputs: [{ name: 'magicValue', type: 'bytes4' }],
  },
] as const;

/**
 * The one method of a viem PublicClient that EIP-1271 needs. A real PublicClient fits this
 * type; so does a test double, without casts.
 */
export interface ContractReader {
  readContract(args: {
    address: Address;
    abi: typeof eip1271Abi;
    functionName: 'isValidSignature';
    args: readonly [Hex, Hex];
  }): Promise<unknown>;
}

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;

/** Contract-wallet signatures (multisig, passkey) can be long; bound them all the same. */
export const MAX_SIGNATURE_BYTES = 8192;

/** "0x" + an even number of hex digits, at most MAX_SIGNATURE_BYTES bytes; else a reason. */
export function signatureShapeProblem(signature: unknown): string | null {
  if (typeof signature !== 'string' || !signature.startsWith('0x')) return 'signature must be a 0x-prefixed hex string';
  if (signature.length > 2 + MAX_SIGNATURE_BYTES * 2) return `signature is longer than ${MAX_SIGNATURE_BYTES} bytes`;
  if (signature.length % 2 !== 0) return 'signature has an odd number of hex digits';
  if (!/^0x[0-9a-fA-F]*$/.test(signature)) return 'signature is not hex';
  return null;
}

export type EoaCheck = { ok: true; recovered: Address } | { ok: false; detail: string; recovered?: Address };

/**
 * EIP-191 personal_sign over the exact message text, recovered offline and compared with
 * `address`. Applies the malleability policy above.
 */
export async function checkEoaSignature(message: string, signature: Hex, address: Address): Promise<EoaCheck> {
  if (signature.length !== 132) return { ok: false, detail: `a plain-account signature is 65 bytes; got ${(signature.length - 2) / 2}` };
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (s > HALF_N) return { ok: false, detail: 'high-s signature refused (EIP-2 low-s rule; see the malleability policy)' };
  const v = Number.parseInt(signature.slice(130), 16);
  if (v !== 27 && v !== 28 && v !== 0 && v !== 1) return { ok: false, detail: `recovery byte v=${v} is not 27/28 (or 0/1)` };
  let recovered: Address;
  try {
    recovered = await recoverMessageAddress({ message, signature });
  } catch (err) {
    return { ok: false, detail: `signature does not recover: ${(err as Error).message.split('\n')[0]}` };
  }
  if (recovered.toLowerCase() !== address.toLowerCase()) {
    return { ok: false, detail: `signature recovers to ${recovered}, not ${address}`, recovered };
  }
  return { ok: true, recovered };
}

export type ContractCheck =
  | { outcome: 'valid' }
  | { outcome: 'rejected'; detail: string }
  | { outcome: 'failed'; detail: string }
  | { outcome: 'unreachable'; detail: string };

// Names of viem's transport-level errors: the RPC could not be asked at all, which says
// nothing about the signature. Matched by name so any viem copy (or a wrapper) is recognised.
const TRANSPORT_ERRORS = new Set(['HttpRequestError', 'TimeoutError', 'WebSocketRequestError', 'SocketClosedError']);

function transportFailure(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 10 && e !== null && typeof e === 'object'; depth++) {
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && TRANSPORT_ERRORS.has(name)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * EIP-1271: asks the contract at `address` (on the client's chain) whether `signature` is
 * valid for the EIP-191 hash of the message. Only the exact magic value 0x1626ba7e counts.
 * No code at the address (viem: zero data) and reverts are 'failed'; a transport failure is
 * 'unreachable' (the RPC service is down, not the signature wrong).
 */
export async function checkContractSignature(client: ContractReader, address: Address, message: string, signature: Hex): Promise<ContractCheck> {
  let result: unknown;
  try {
    result = await client.readContract({
      address,
      abi: eip1271Abi,
      functionName: 'isValidSignature',
      args: [hashMessage(message), signature],
    });
  } catch (err) {
    const first = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (transportFailure(err)) return { outcome: 'unreachable', detail: `RPC unreachable: ${first}` };
    return { outcome: 'failed', detail: `isValidSignature call failed (no contract code or reverted): ${first}` };
  }
  if (typeof result === 'string' && result.toLowerCase() === EIP1271_MAGIC_VALUE) return { outcome: 'valid' };
  return { outcome: 'rejected', detail: `isValidSignature returned ${typeof result === 'string' ? result : typeof result}, not ${EIP1271_MAGIC_VALUE}` };
}
