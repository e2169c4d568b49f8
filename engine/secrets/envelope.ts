// Envelope encryption of one secret value. Each record gets its own random data key (DEK); the
// value is sealed with AES-256-GCM under the DEK, and the DEK is wrapped (AES-256-GCM again)
// under a key derived from the master key. Rotating the master key then only re-wraps 32 bytes
// per record, and a record names the master key that wrapped it, so old and new keys can be
// used side by side while a rotation runs.
//
// Format (printable, no padding, '.' never occurs inside a part):
//   cs1.<keyId>.<b64url(wrap iv | wrapped DEK | wrap tag)>.<b64url(iv)>.<b64url(ct)>.<b64url(tag)>
// Associated data (the row the value belongs to, see aadFor) is authenticated by both layers:
// a value copied to another row, or a DEK wrap moved to another record, fails to open. The wrap
// also binds the key id, so an envelope cannot be relabelled to another master key.
import crypto from 'node:crypto';
import { SecretError } from './errors.ts';
import type { MasterKey } from './master-key.ts';

const VERSION = 'cs1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DEK_BYTES = 32;
const WRAPPED_BYTES = IV_BYTES + DEK_BYTES + TAG_BYTES;

interface Gcm { iv: Buffer; ct: Buffer; tag: Buffer }
interface Parsed {
  keyId: string;
  wrapped: Buffer;
  data: Gcm;
  /** the iv, ct and tag parts as written, so rewrap can copy them without re-encoding */
  dataText: string;
}

/** Seals a secret for one place (aad, e.g. "app.accounts:api_secret:42"). */
export function seal(plaintext: string | Buffer, aad: string, master: MasterKey): string {
  checkAad(aad);
  const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const dek = crypto.randomBytes(DEK_BYTES);
  try {
    const data = encrypt(dek, bytes, dataAad(aad));
    const dataText = [data.iv, data.ct, data.tag].map((b) => b.toString('base64url')).join('.');
    return `${VERSION}.${master.id}.${wrapDek(dek, aad, master).toString('base64url')}.${dataText}`;
  } finally {
    dek.fill(0);
    if (bytes !== plaintext) bytes.fill(0);
  }
}

/** Opens an envelope with whichever of the given master keys wrapped it. */
export function open(envelope: string, aad: string, master: MasterKey | MasterKey[]): Buffer {
  checkAad(aad);
  const p = parse(envelope);
  const dek = unwrapDek(p, aad, pickKey(p.keyId, master));
  try {
    return decrypt(dek, p.data, dataAad(aad), 'value');
  } finally {
    dek.fill(0);
  }
}

/** open() as UTF-8 text. */
export function openText(envelope: string, aad: string, master: MasterKey | MasterKey[]): string {
  const buf = open(envelope, aad, master);
  try { return buf.toString('utf8'); } finally { buf.fill(0); }
}

/** Re-wraps the envelope's DEK from one master key to another; the sealed value is untouched. */
export function rewrap(envelope: string, aad: string, from: MasterKey, to: MasterKey): string {
  checkAad(aad);
  const p = parse(envelope);
  if (p.keyId !== from.id) {
    throw new SecretError('unknown_key', `The secret is wrapped by master key ${p.keyId}, not by ${from.id} to re-wrap from.`);
  }
  // Refuse a broken value now rather than carry it over to the new key looking healthy.
  checkTagLength(p.data.tag, 'value');
  const dek = unwrapDek(p, aad, from);
  try {
    return `${VERSION}.${to.id}.${wrapDek(dek, aad, to).toString('base64url')}.${p.dataText}`;
  } finally {
    dek.fill(0);
  }
}

/** True when value is a well-formed envelope (no key needed; says nothing about authenticity). */
export function isSealed(value: unknown): value is string {
  try {
    parse(value);
    return true;
  } catch {
    return false;
  }
}

/** The id of the master key that wrapped the envelope. Throws SecretError 'malformed'. */
export function keyIdOf(envelope: string): string {
  return parse(envelope).keyId;
}

function parse(envelope: unknown): Parsed {
  if (typeof envelope !== 'string') throw malformed('it is not a string');
  const parts = envelope.split('.');
  if (parts[0] !== VERSION) {
    throw malformed(/^cs\d+$/.test(parts[0]) ? `envelope version ${parts[0]} is not supported` : 'it is not a sealed secret');
  }
  if (parts.length !== 6) throw malformed(`it has ${parts.length} parts, not 6`);
  const [, keyId, wrapped, iv, ct, tag] = parts;
  if (!/^[0-9a-f]{16}$/.test(keyId)) throw malformed('its key id is not 16 hex digits');
  const data = { iv: b64(iv, 'iv'), ct: b64(ct, 'ciphertext'), tag: b64(tag, 'tag') };
  if (data.iv.length !== IV_BYTES) throw malformed(`its iv is ${data.iv.length} bytes, not ${IV_BYTES}`);
  return { keyId, wrapped: b64(wrapped, 'wrapped key'), data, dataText: `${iv}.${ct}.${tag}` };
}

/** Strict base64url: Node's decoder skips characters it does not know, so compare a re-encode. */
function b64(text: string, what: string): Buffer {
  const buf = Buffer.from(text, 'base64url');
  if (!/^[A-Za-z0-9_-]*$/.test(text) || buf.toString('base64url') !== text) throw malformed(`its ${what} is not base64url`);
  return buf;
}

function pickKey(keyId: string, master: MasterKey | MasterKey[]): MasterKey {
  const list = Array.isArray(master) ? master : [master];
  const found = list.find((m) => m.id === keyId);
  if (!found) {
    const loaded = list.map((m) => m.id).join(', ') || 'none';
    throw new SecretError('unknown_key', `The secret is wrapped by master key ${keyId}, which is not loaded (loaded: ${loaded}). Start with the master key it was sealed with.`);
  }
  return found;
}

// The wrap key is derived rather than the master key itself, so the master key's bytes are used
// directly only for its fingerprint (master-key.ts) and never as an AES key.
const kekCache = new WeakMap<MasterKey, Buffer>();
function kek(master: MasterKey): Buffer {
  let k = kekCache.get(master);
  if (!k) {
    k = Buffer.from(crypto.hkdfSync('sha256', master.key, Buffer.alloc(0), 'carry/cs1/kek', 32));
    kekCache.set(master, k);
  }
  return k;
}

function wrapDek(dek: Buffer, aad: string, master: MasterKey): Buffer {
  const w = encrypt(kek(master), dek, wrapAad(master.id, aad));
  return Buffer.concat([w.iv, w.ct, w.tag]);
}

function unwrapDek(p: Parsed, aad: string, master: MasterKey): Buffer {
  // A short or long wrap means its tag was cut or padded: an integrity failure, not a format one.
  if (p.wrapped.length !== WRAPPED_BYTES) throw tampered(`the wrapped key is ${p.wrapped.length} bytes, not ${WRAPPED_BYTES}`);
  const w = {
    iv: p.wrapped.subarray(0, IV_BYTES),
    ct: p.wrapped.subarray(IV_BYTES, IV_BYTES + DEK_BYTES),
    tag: p.wrapped.subarray(IV_BYTES + DEK_BYTES),
  };
  return decrypt(kek(master), w, wrapAad(p.keyId, aad), 'wrapped key');
}

// Labels keep the two layers apart: a data part can never pass as a wrap, or the reverse.
function dataAad(aad: string): Buffer { return Buffer.from(`${VERSION}\0data\0${aad}`, 'utf8'); }
function wrapAad(keyId: string, aad: string): Buffer { return Buffer.from(`${VERSION}\0kek\0${keyId}\0${aad}`, 'utf8'); }

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): Gcm {
  const iv = crypto.randomBytes(IV_BYTES);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv, ct, tag: c.getAuthTag() };
}

function decrypt(key: Buffer, g: Gcm, aad: Buffer, what: string): Buffer {
  // Node would accept a shorter tag unless told otherwise; check it ourselves as well, so a
  // truncated tag is refused whatever the Node version does.
  checkTagLength(g.tag, what);
  const d = crypto.createDecipheriv('aes-256-gcm', key, g.iv, { authTagLength: TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(g.tag);
  const out = d.update(g.ct);
  try {
    return Buffer.concat([out, d.final()]);
  } catch {
    throw tampered(`the ${what} failed authentication (altered, or it belongs to another record)`);
  } finally {
    out.fill(0); // unauthenticated plaintext, or a copy already concatenated
  }
}

function checkTagLength(tag: Buffer, what: string): void {
  if (tag.length !== TAG_BYTES) throw tampered(`the ${what} authentication tag is ${tag.length} bytes, not ${TAG_BYTES}`);
}

function checkAad(aad: string): void {
  // Sealing without a place to bind to would let a value be moved between rows unnoticed.
  if (typeof aad !== 'string' || aad === '') throw new TypeError('secrets: associated data (aad) must be a non-empty string');
}

function malformed(why: string): SecretError {
  return new SecretError('malformed', `The value cannot be opened: ${why}.`);
}

function tampered(why: string): SecretError {
  return new SecretError('tampered', `The secret cannot be opened: ${why}.`);
}
