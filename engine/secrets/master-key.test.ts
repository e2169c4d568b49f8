import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MasterKeyError } from './errors.ts';
import { generateMasterKey, loadMasterKey, masterKeyFromBytes, writeKeyFile } from './master-key.ts';

const BYTES = crypto.randomBytes(32);
const ID = masterKeyFromBytes(BYTES).id;

function refused(fn: () => unknown, code: MasterKeyError['code']): MasterKeyError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(MasterKeyError);
  expect((err as MasterKeyError).code).toBe(code);
  return err as MasterKeyError;
}

describe('CARRY_MASTER_KEY', () => {
  it('accepts 32 bytes as base64 (padded or not, url alphabet too) and as hex', () => {
    for (const text of [BYTES.toString('base64'), BYTES.toString('base64url'), BYTES.toString('hex'),
      BYTES.toString('hex').toUpperCase(), `  ${BYTES.toString('base64')}\n`]) {
      const m = loadMasterKey({ env: { CARRY_MASTER_KEY: text } });
      expect(m.id).toBe(ID);
      expect(m.key.equals(BYTES)).toBe(true);
    }
  });

  it('refuses short or garbage values, naming the variable and never echoing the value', () => {
    const values = [BYTES.toString('hex').slice(0, 62), BYTES.subarray(0, 16).toString('base64'),
      crypto.randomBytes(48).toString('base64'), 'correct horse battery staple', BYTES.toString('hex') + 'ab',
      BYTES.toString('base64').replace(/.$/, '!'), ''];
    for (const value of values) {
      const err = refused(() => loadMasterKey({ env: { CARRY_MASTER_KEY: value } }), 'invalid');
      expect(err.message).toContain('CARRY_MASTER_KEY');
      if (value) expect(err.message).not.toContain(value);
      expect(err.message).not.toContain(BYTES.toString('hex').slice(0, 16));
    }
  });

  it('wins over the key file, and its absence with no key file is a clear error', () => {
    const err = refused(() => loadMasterKey({ env: {} }), 'missing');
    expect(err.message).toContain('CARRY_MASTER_KEY');
    const m = loadMasterKey({ env: { CARRY_MASTER_KEY: BYTES.toString('hex') }, keyFile: '/nonexistent/master.key', create: true });
    expect(m.id).toBe(ID);
    expect(fs.existsSync('/nonexistent/master.key')).toBe(false);
  });
});

describe('key file', () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carry-key-'));
    umask = process.umask(0); // the file must be 0600 whatever the umask
  });
  afterEach(() => {
    process.umask(umask);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is created with mode 0600 on first start and read back on the next', () => {
    const file = path.join(dir, 'nested', '.carry-master.key');
    const first = loadMasterKey({ env: {}, keyFile: file, create: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['.carry-master.key']); // no temp file left
    const again = loadMasterKey({ env: {}, keyFile: file, create: true });
    expect(again.id).toBe(first.id);
    expect(again.key.equals(first.key)).toBe(true);
    expect(loadMasterKey({ env: {}, keyFile: file }).id).toBe(first.id);
  });

  it('is refused when group or world can read it, with the chmod that fixes it', () => {
    const file = path.join(dir, 'master.key');
    fs.writeFileSync(file, BYTES.toString('base64') + '\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const err = refused(() => loadMasterKey({ env: {}, keyFile: file, create: true }), 'insecure_file');
    expect(err.message).toContain(`chmod 600 ${file}`);
    expect(err.message).toContain('0644');
    expect(err.message).not.toContain(BYTES.toString('base64'));
    fs.chmodSync(file, 0o640);
    refused(() => loadMasterKey({ env: {}, keyFile: file }), 'insecure_file');
    fs.chmodSync(file, 0o600);
    expect(loadMasterKey({ env: {}, keyFile: file }).id).toBe(ID);
    fs.chmodSync(file, 0o400);
    expect(loadMasterKey({ env: {}, keyFile: file }).id).toBe(ID);
  });

  it('is not created unless asked, and a damaged one is refused without showing it', () => {
    const file = path.join(dir, 'master.key');
    const err = refused(() => loadMasterKey({ env: {}, keyFile: file }), 'missing');
    expect(err.message).toContain('CARRY_MASTER_KEY');
    expect(fs.existsSync(file)).toBe(false);
    fs.writeFileSync(file, 'not a key at all', { mode: 0o600 });
    const bad = refused(() => loadMasterKey({ env: {}, keyFile: file, create: true }), 'invalid');
    expect(bad.message).not.toContain('not a key at all');
    expect(fs.readFileSync(file, 'utf8')).toBe('not a key at all'); // never overwritten
  });

  it('writeKeyFile never replaces an existing key unless told to', () => {
    const file = path.join(dir, 'master.key');
    const a = generateMasterKey();
    const b = generateMasterKey();
    writeKeyFile(file, a);
    expect(() => writeKeyFile(file, b)).toThrow(/EEXIST/);
    expect(loadMasterKey({ env: {}, keyFile: file }).id).toBe(a.id);
    writeKeyFile(file, b, { replace: true });
    expect(loadMasterKey({ env: {}, keyFile: file }).id).toBe(b.id);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['master.key']);
  });
});
