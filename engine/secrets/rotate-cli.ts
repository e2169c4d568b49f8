// carry rotate-master-key: re-wrap every sealed value under a new master key. The new key is
// CARRY_NEW_MASTER_KEY, or (key-file installs) a generated key kept in `<key file>.new` until
// the run completes — so an interrupted run is simply run again and continues where it stopped.
import fs from 'node:fs';
import type { Db } from '../db/connect.ts';
import type { Model } from '../model/types.ts';
import { CONFIG_TARGET, type MasterKeys } from './api.ts';
import type { SecretColumn } from './columns.ts';
import { generateMasterKey, loadMasterKey, writeKeyFile, type MasterKey } from './master-key.ts';
import { rotateMasterKey } from './rotate.ts';

export function secretTargets(model: Model): SecretColumn[] {
  const out: SecretColumn[] = [];
  for (const e of model.entities.values()) {
    if (e.kind !== 'table' || e.primaryKey.length !== 1) continue;
    for (const c of e.columns) if (c.secret) out.push({ schema: e.schema, table: e.table, column: c.name, key: e.primaryKey });
  }
  return out;
}

export async function rotateCli(db: Db, model: Model, keys: MasterKeys, log: (line: string) => void): Promise<{ rewrapped: number; done: boolean }> {
  const from = keys.get();
  const keyFile = keys.keyFile();
  let to: MasterKey;
  const usingEnv = process.env.CARRY_MASTER_KEY !== undefined;
  if (process.env.CARRY_NEW_MASTER_KEY) {
    to = loadMasterKey({ env: { CARRY_MASTER_KEY: process.env.CARRY_NEW_MASTER_KEY } });
  } else if (usingEnv || !keyFile) {
    throw new Error('CARRY_MASTER_KEY is set: give the new key in CARRY_NEW_MASTER_KEY (32 random bytes, base64 or hex)');
  } else {
    const pending = `${keyFile}.new`;
    if (!fs.existsSync(pending)) writeKeyFile(pending, generateMasterKey());
    to = loadMasterKey({ env: {}, keyFile: pending });
  }
  if (to.id === from.id) throw new Error('the new master key is the current one');
  const targets = [...secretTargets(model), CONFIG_TARGET];
  log(`re-wrapping ${targets.length} secret column(s) from key ${from.id} to key ${to.id}`);
  const r = await rotateMasterKey(db, targets, from, to, { onProgress: (p) => log(`  ${JSON.stringify(p)}`) });
  log(`re-wrapped ${r.rewrapped}, already on the new key ${r.skipped}, other ${r.foreign}`);
  if (!process.env.CARRY_NEW_MASTER_KEY && keyFile) {
    // Keep the old key beside the new one until an operator has checked the result.
    fs.copyFileSync(keyFile, `${keyFile}.old`);
    fs.chmodSync(`${keyFile}.old`, 0o600);
    fs.renameSync(`${keyFile}.new`, keyFile);
    log(`the key file now holds key ${to.id}; the previous key is in ${keyFile}.old`);
  } else {
    log('now set CARRY_MASTER_KEY to the value of CARRY_NEW_MASTER_KEY and restart');
  }
  return { rewrapped: r.rewrapped, done: true };
}
