// The master key: 32 bytes that wrap every record's data key. It comes from CARRY_MASTER_KEY
// (servers, containers) or from a key file beside the embedded data folder, created on the first
// embedded start so a local install works with no setup. The key is never logged: a MasterKey
// prints and serialises as its id only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { MasterKeyError } from './errors.ts';

export const MASTER_KEY_ENV = 'CARRY_MASTER_KEY';
const KEY_BYTES = 32;
const GENERATE_HINT = `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`;

export interface MasterKey {
  /** Short public fingerprint (16 hex digits), written into every envelope it wraps. */
  readonly id: string;
  readonly key: Buffer;
}

export interface LoadMasterKeyOptions {
  /** Where to read CARRY_MASTER_KEY from; process.env when omitted. */
  env?: NodeJS.ProcessEnv;
  /** Key file used when CARRY_MASTER_KEY is not set, e.g. beside the embedded data folder. */
  keyFile?: string;
  /** Create keyFile (mode 0600) with a fresh key when it does not exist. */
  create?: boolean;
}

/** The fingerprint: domain-separated so it is never the same hash as any other use of the key. */
export function masterKeyId(key: Buffer): string {
  return crypto.createHash('sha256').update('carry/master-key-id/v1\0').update(key).digest().subarray(0, 8).toString('hex');
}

/** Wraps 32 key bytes as a MasterKey whose bytes stay out of console.log, util.inspect and JSON. */
export function masterKeyFromBytes(bytes: Buffer): MasterKey {
  if (bytes.length !== KEY_BYTES) throw new MasterKeyError('invalid', `a master key must be ${KEY_BYTES} bytes`);
  const id = masterKeyId(bytes);
  const master = { id } as MasterKey;
  Object.defineProperty(master, 'key', { value: Buffer.from(bytes), enumerable: false });
  Object.defineProperty(master, 'toJSON', { value: () => ({ id }), enumerable: false });
  Object.defineProperty(master, inspect.custom, { value: () => `MasterKey(${id})`, enumerable: false });
  return Object.freeze(master);
}

export function generateMasterKey(): MasterKey {
  return masterKeyFromBytes(crypto.randomBytes(KEY_BYTES));
}

/** 64 hex digits, or base64 / base64url of 32 bytes (padding optional). Null when neither. */
function decodeKeyText(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  return null;
}

/**
 * CARRY_MASTER_KEY when set (it wins over the file), else keyFile (created when `create` and
 * missing). Throws MasterKeyError with a message that says how to fix it.
 */
export function loadMasterKey(opts: LoadMasterKeyOptions = {}): MasterKey {
  const raw = (opts.env ?? process.env)[MASTER_KEY_ENV];
  if (raw !== undefined) {
    // An empty variable is refused rather than ignored: silently falling back to a key file
    // would seal new secrets under a different key than the operator meant.
    const bytes = decodeKeyText(raw);
    if (!bytes) {
      const what = raw.trim() === '' ? 'is set but empty' : 'is not a valid master key';
      throw new MasterKeyError('invalid', `${MASTER_KEY_ENV} ${what}: it must be ${KEY_BYTES} random bytes written as 64 hex digits or as base64 (44 characters). Generate one with: ${GENERATE_HINT}`);
    }
    return masterKeyFromBytes(bytes);
  }
  if (!opts.keyFile) {
    throw new MasterKeyError('missing', `No master key: set ${MASTER_KEY_ENV} to ${KEY_BYTES} random bytes (64 hex digits or base64). Generate one with: ${GENERATE_HINT}`);
  }
  const file = path.resolve(opts.keyFile);
  if (opts.create && !fs.existsSync(file)) {
    const made = generateMasterKey();
    try {
      writeKeyFile(file, made);
      return made;
    } catch (e) {
      // Another process created it first: use theirs, so both seal under the same key.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return readKeyFile(file);
}

function readKeyFile(file: string): MasterKey {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new MasterKeyError('missing', `No master key: ${MASTER_KEY_ENV} is not set and the key file ${file} does not exist. Set ${MASTER_KEY_ENV}, or restore the key file from your backup.`);
  }
  try {
    // fstat on the open descriptor: the mode checked is the mode of the file actually read.
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new MasterKeyError('invalid', `The master key file ${file} is not a regular file.`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new MasterKeyError('insecure_file', `The master key file ${file} is open to other users (mode ${mode}); refusing to use it. Restrict it to its owner with: chmod 600 ${file}`);
    }
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const bytes = decodeKeyText(buf.subarray(0, n).toString('utf8'));
    buf.fill(0);
    if (!bytes) throw new MasterKeyError('invalid', `The master key file ${file} does not hold a valid key (${KEY_BYTES} bytes as 64 hex digits or base64). Restore it from your backup: without it, sealed secrets cannot be opened.`);
    const master = masterKeyFromBytes(bytes);
    bytes.fill(0);
    return master;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a key file with mode 0600, atomically: the key goes to a private temporary file first,
 * so a crash never leaves a half-written key. Without `replace` an existing file is never
 * overwritten (throws EEXIST); with it the file is swapped in by rename.
 */
export function writeKeyFile(file: string, master: MasterKey, opts: { replace?: boolean } = {}): void {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  // 'wx' with mode 0600: created private from the first byte (umask can only remove bits).
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, master.key.toString('base64') + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (opts.replace) fs.renameSync(tmp, target);
    else {
      fs.linkSync(tmp, target); // unlike rename, link refuses to replace an existing file
      fs.unlinkSync(tmp);
    }
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  // Make the new directory entry durable; not supported everywhere (Windows), so best effort.
  try {
    const fd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  } catch { /* best effort */ }
}
