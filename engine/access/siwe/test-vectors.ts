// Loads the shared test vectors (../shared/vectors beside the repo; see PROVENANCE.md there).
// Tests read them from that one place so an updated vector set is picked up without copying.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = import.meta.dirname ?? path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is engine/access/siwe/test-vectors.ts). */
export const ROOT = path.resolve(HERE, '..', '..', '..');
/** ../shared beside the checkout; CARRY_SHARED_DIR when the checkout lives elsewhere (a CI clone). */
function sharedDir(): string {
  const candidates = [process.env.CARRY_SHARED_DIR, path.join(ROOT, '..', 'shared'), '/work/shared'].filter((x): x is string => !!x);
  return candidates.find((d) => fs.existsSync(path.join(d, 'vectors'))) ?? candidates[0];
}
export const VECTORS = path.join(sharedDir(), 'vectors');

export function readVectors<T>(...parts: string[]): T {
  return JSON.parse(fs.readFileSync(path.join(VECTORS, ...parts), 'utf8')) as T;
}

export type ParsingPositive = Record<string, { message: string; fields: Record<string, unknown> }>;
export type ParsingNegative = Record<string, string>;
export type FieldObjects = Record<string, Record<string, unknown>>;

export const siwe = {
  positive: () => readVectors<ParsingPositive>('spruceid-siwe', 'test', 'parsing_positive.json'),
  negative: () => readVectors<ParsingNegative>('spruceid-siwe', 'test', 'parsing_negative.json'),
  negativeObjects: () => readVectors<FieldObjects>('spruceid-siwe', 'test', 'parsing_negative_objects.json'),
  verificationPositive: () => readVectors<FieldObjects>('spruceid-siwe', 'test', 'verification_positive.json'),
  verificationNegative: () => readVectors<FieldObjects>('spruceid-siwe', 'test', 'verification_negative.json'),
  eip1271: () => readVectors<Record<string, { message: string; signature: `0x${string}` }>>('spruceid-siwe', 'test', 'eip1271.json'),
};

/** Drops null values: the vectors write `"scheme": null` where the parser leaves the key out. */
export function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}
