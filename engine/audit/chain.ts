// The audit trail, meta.action_logs: one row per change or sensitive action, appended in the
// caller's transaction (so a change and its audit row commit or vanish together) and chained:
// each row_hash covers the row and the previous row's hash, so an edited, removed or inserted
// row shows up when `verifyAuditChain` walks the table.
import crypto from 'node:crypto';
import net from 'node:net';
import { inTransaction } from '../db/tx.ts';
import type { DbClient, DbPool } from '../db/types.ts';

export interface AuditEntry {
  userId?: string | null;
  roleName?: string | null;
  /** Permission exercised, e.g. entity:edit. */
  permission?: string | null;
  /** What happened: insert, update, delete, rpc, sign_in, sign_in_failed, refused, ... */
  action: string;
  entity?: string | null;
  recordKey?: string | null;
  /** Context, e.g. {changes:[{field,old,new}]}; secrets are redacted before storing. */
  details?: unknown;
  requestId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** One row as the canonical serialisation sees it: every field already in its stored text form. */
export interface CanonicalAuditRow {
  log_id: string;
  timestamp: string;
  user_id: string | null;
  role_name: string | null;
  permission_name: string | null;
  action: string;
  entity: string | null;
  record_key: string | null;
  details_json: string;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  prev_hash: string | null;
}

export type ChainProblem = 'hash_mismatch' | 'broken_link' | 'missing_row' | 'fork';

export interface VerifyResult {
  ok: boolean;
  /** Rows checked; when not ok, up to and including the first bad one. */
  rows: number;
  firstBad?: { log_id: string; reason: ChainProblem };
  /** Last row checked. Deleting the newest rows leaves a valid shorter chain, so keep this
   * somewhere else (a ticket, a log shipper) and compare it on the next run. */
  head?: { log_id: string; row_hash: string };
}

export const AUDIT_FORMAT = 'carry.action_logs.v1';
/** Advisory lock that serialises audit writers ("carryaud" in ASCII, unlikely to collide). */
export const AUDIT_LOCK_KEY = '7161132897546977636';

const FIELDS: (keyof CanonicalAuditRow)[] = [
  'log_id', 'timestamp', 'user_id', 'role_name', 'permission_name', 'action', 'entity',
  'record_key', 'details_json', 'request_id', 'ip', 'user_agent', 'prev_hash',
];

/**
 * The bytes that row_hash covers: a first line `carry.action_logs.v1`, then one line per field in
 * the fixed order of FIELDS, `<name> <value>\n`, where value is `-` for SQL null or
 * `<UTF-8 byte length>:<text>` otherwise. The length prefix makes any text (newlines, spaces,
 * a lone `-`) unambiguous without escaping rules. Text forms are PostgreSQL's: log_id and
 * user_id as decimal strings, timestamp as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds, as
 * stored), details_json as `details_json::text` (jsonb's own output: keys sorted, numbers
 * exactly as stored), ip as `ip::text`.
 */
export function canonicalAuditRow(row: CanonicalAuditRow): string {
  let out = AUDIT_FORMAT + '\n';
  for (const f of FIELDS) {
    const v = row[f];
    out += `${f} ${v === null || v === undefined ? '-' : `${Buffer.byteLength(v, 'utf8')}:${v}`}\n`;
  }
  return out;
}

/** row_hash: SHA-256, lowercase hex, of the canonical serialisation in UTF-8. */
export function auditRowHash(row: CanonicalAuditRow): string {
  return crypto.createHash('sha256').update(canonicalAuditRow(row), 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

export const REDACTED = '[redacted]';
// Matched against the key in snake_case, so privateKey and PRIVATE_KEY count too. Whole words
// only: `tokens_used` or `is_encrypted` are not secrets, `token_hash` and `encrypted_key` are.
const SECRET_WORDS = /(^|_)(password|passwd|passphrase|secret|token|signature|mnemonic|seed_phrase|private_key|api_key|cookie|authorization)(_|$)|^encrypted_|_encrypted$/;

function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[-\s]+/g, '_').toLowerCase();
}

/**
 * A copy of details with the values of secret-looking keys replaced by "[redacted]". Also
 * covers change lists, where the secret's name is a value: {field: 'password_hash', old, new}
 * redacts old, new and value. null and booleans are kept (they only say whether a secret is
 * set). secretKeys adds names (compared in snake_case) or patterns, e.g. fields the definition
 * marks secret. The copy is plain JSON: bigint becomes a string, Date an ISO string,
 * undefined and functions vanish, NUL characters (refused by PostgreSQL) become U+FFFD.
 */
export function redactSecrets(details: unknown, secretKeys: readonly (string | RegExp)[] = []): unknown {
  const extra = secretKeys.map((k) => (typeof k === 'string' ? snake(k) : k));
  const isSecret = (key: string) => {
    const s = snake(key);
    return SECRET_WORDS.test(s) || extra.some((k) => (typeof k === 'string' ? k === s : k.test(key)));
  };
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    switch (typeof v) {
      case 'string': return clean(v);
      case 'bigint': return v.toString();
      case 'number': return Number.isFinite(v) ? v : String(v);
      case 'boolean': return v;
      case 'object': break;
      default: return undefined; // undefined, functions, symbols: JSON has no such value
    }
    if (v === null) return null;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    let out: unknown;
    if (Array.isArray(v)) {
      out = v.map((x) => walk(x) ?? null);
    } else {
      const src = v as Record<string, unknown>;
      const named = [src.field, src.column, src.name].find((n) => typeof n === 'string') as string | undefined;
      const secretChange = named !== undefined && isSecret(named);
      const obj: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(src)) {
        const hide = isSecret(k) || (secretChange && (k === 'old' || k === 'new' || k === 'value'));
        const w = hide && x !== null && x !== undefined && typeof x !== 'boolean' ? REDACTED : walk(x);
        if (w !== undefined) obj[clean(k)] = w;
      }
      out = obj;
    }
    seen.delete(v);
    return out;
  };
  return walk(details);
}

// PostgreSQL text and jsonb cannot hold NUL; replacing it keeps a hostile value from aborting
// the caller's transaction.
function clean(s: string): string {
  return s.includes('\0') ? s.replace(/\0/g, '\uFFFD') : s;
}

// ---------------------------------------------------------------------------------------------
// Append
// ---------------------------------------------------------------------------------------------

const ACTION = /^[a-z][a-z0-9_]*$/;
const TS_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const UA_MAX = 512;

function text(v: string | null | undefined): string | null {
  return v === null || v === undefined ? null : clean(v);
}

/**
 * Appends one audit row inside the caller's transaction (client must be in BEGIN ... COMMIT).
 * Writers are serialised with a transaction-scoped advisory lock, so the row read as the
 * chain's head stays the head until this transaction ends: concurrent transactions queue up
 * instead of forking the chain. Everything hashed is first echoed through PostgreSQL's own
 * casts, so the hash covers exactly the text the verifier will read back.
 */
export async function appendAudit(client: DbClient, entry: AuditEntry): Promise<{ log_id: string; row_hash: string }> {
  if (!ACTION.test(entry.action)) throw new Error(`audit action must be snake_case (a-z, 0-9, _): ${JSON.stringify(entry.action)}`);
  let details = redactSecrets(entry.details ?? {});
  if (details === null || typeof details !== 'object' || Array.isArray(details)) details = { value: details ?? null };
  // An unparsable address (a forged X-Forwarded-For) must not abort the caller's change.
  let ip = entry.ip ? entry.ip.replace(/%.*$/, '') : null;
  if (ip !== null && net.isIP(ip) === 0) {
    details = { ...(details as object), ip_unparsed: text(entry.ip!.slice(0, 200)) };
    ip = null;
  }

  // A separate statement: a READ COMMITTED snapshot is taken when a statement starts, so the
  // head must be read by a statement that begins after the lock is held.
  await client.query(`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
  // clock_timestamp(), taken under the lock, rather than now() (the transaction's start):
  // timestamps then rise along the chain. nextval under the lock makes log_id order the chain
  // order; a rolled-back append leaves a gap in log_id, which is not an error.
  const head = await client.query(
    `SELECT nextval(pg_get_serial_sequence('meta.action_logs', 'log_id'))::text AS log_id,
            to_char(clock_timestamp() AT TIME ZONE 'UTC', ${TS_TEXT}) AS timestamp,
            (SELECT row_hash FROM meta.action_logs ORDER BY log_id DESC LIMIT 1) AS prev_hash,
            $1::bigint::text AS user_id, $2::text AS role_name, $3::text AS permission_name,
            $4::text AS action, $5::text AS entity, $6::text AS record_key,
            $7::jsonb::text AS details_json, $8::text AS request_id, $9::inet::text AS ip,
            $10::text AS user_agent`,
    [entry.userId ?? null, text(entry.roleName), text(entry.permission), entry.action,
      text(entry.entity), text(entry.recordKey), JSON.stringify(details), text(entry.requestId), ip,
      text(entry.userAgent)?.slice(0, UA_MAX) ?? null]);
  const row = head.rows[0] as CanonicalAuditRow;
  const rowHash = auditRowHash(row);
  try {
    await client.query(
      `INSERT INTO meta.action_logs (log_id, "timestamp", user_id, role_name, permission_name, action,
         entity, record_key, details_json, request_id, ip, user_agent, prev_hash, row_hash)
       VALUES ($1::bigint, $2::timestamptz, $3::bigint, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::inet, $12, $13, $14)`,
      [row.log_id, row.timestamp, row.user_id, row.role_name, row.permission_name, row.action, row.entity,
        row.record_key, row.details_json, row.request_id, row.ip, row.user_agent, row.prev_hash, rowHash]);
  } catch (e) {
    const err = e as Error & { constraint?: string };
    if (err.constraint === 'action_logs_chain_has_no_forks' || /action_logs_chain_has_no_forks/.test(err.message)) {
      // Only a stale snapshot gets here: REPEATABLE READ or SERIALIZABLE fix the snapshot at
      // the transaction's first statement, before the lock was granted. Retry the transaction.
      throw Object.assign(new Error('audit chain head moved under this transaction (run audited writes in READ COMMITTED, or retry)'), { cause: e, code: '40001' });
    }
    throw e;
  }
  return { log_id: row.log_id, row_hash: rowHash };
}

/**
 * For events whose own transaction fails or never existed (failed sign-ins, refused requests):
 * appends in a transaction of its own. On embedded PGlite, call it only after the failed
 * transaction's client is released, or it waits for that client forever.
 */
export async function appendAuditInOwnTransaction(pool: DbPool, entry: AuditEntry): Promise<{ log_id: string; row_hash: string }> {
  return inTransaction(pool, (client) => appendAudit(client, entry));
}

// ---------------------------------------------------------------------------------------------
// Verify
// ---------------------------------------------------------------------------------------------

// Qualified ORDER BY below: a bare `log_id` would sort by this list's text alias ('10' < '2').
const ROW_TEXT = `log_id::text AS log_id, to_char("timestamp" AT TIME ZONE 'UTC', ${TS_TEXT}) AS timestamp,
  user_id::text AS user_id, role_name, permission_name, action, entity, record_key,
  details_json::text AS details_json, request_id, ip::text AS ip, user_agent, prev_hash, row_hash`;

/**
 * Walks meta.action_logs in log_id order, batchSize rows at a time (memory stays bounded), in
 * one REPEATABLE READ snapshot, and reports the first row that is wrong:
 * - hash_mismatch: the row's content no longer gives its row_hash (edited);
 * - fork: another earlier row already names the same previous row (two chains);
 * - missing_row: the previous row it names does not exist (deleted, or rewritten with a new hash);
 *   also the first row when it has a prev_hash (the start of the chain was deleted);
 * - broken_link: it names an existing row that is not the one before it (reordered, or a row
 *   was inserted between them).
 * Gaps in log_id alone are fine: identity values are spent by rolled-back transactions.
 */
export async function verifyAuditChain(pool: DbPool, opts: { batchSize?: number } = {}): Promise<VerifyResult> {
  const batchSize = opts.batchSize ?? 1000;
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    let rows = 0;
    let prev: { log_id: string; row_hash: string; prev_hash: string | null } | null = null;
    for (;;) {
      const batch = (await client.query(
        `SELECT ${ROW_TEXT} FROM meta.action_logs a WHERE a.log_id > $1::bigint ORDER BY a.log_id LIMIT $2`,
        [prev?.log_id ?? '-9223372036854775808', batchSize])).rows as (CanonicalAuditRow & { row_hash: string })[];
      for (const row of batch) {
        rows++;
        const bad = (reason: ChainProblem): VerifyResult =>
          ({ ok: false, rows, firstBad: { log_id: row.log_id, reason }, head: prev ? { log_id: prev.log_id, row_hash: prev.row_hash } : undefined });
        if (auditRowHash(row) !== row.row_hash) return bad('hash_mismatch');
        if (prev === null ? row.prev_hash !== null : row.prev_hash !== prev.row_hash) {
          return bad(await classifyLink(client, row));
        }
        prev = { log_id: row.log_id, row_hash: row.row_hash, prev_hash: row.prev_hash };
      }
      if (batch.length < batchSize) break;
    }
    return { ok: true, rows, head: prev ? { log_id: prev.log_id, row_hash: prev.row_hash } : undefined };
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}

// Why a row's prev_hash is not its predecessor's row_hash; runs once, at the first bad row.
async function classifyLink(client: DbClient, row: CanonicalAuditRow): Promise<ChainProblem> {
  const r = (await client.query(
    `SELECT EXISTS (SELECT 1 FROM meta.action_logs WHERE prev_hash IS NOT DISTINCT FROM $1 AND log_id < $2::bigint) AS sibling,
            EXISTS (SELECT 1 FROM meta.action_logs WHERE row_hash = $1) AS target`,
    [row.prev_hash, row.log_id])).rows[0] as { sibling: boolean; target: boolean };
  if (r.sibling) return 'fork';
  // A null prev_hash past the first row claims to start a chain: a link to nothing that was lost.
  if (row.prev_hash !== null && !r.target) return 'missing_row';
  return 'broken_link';
}
