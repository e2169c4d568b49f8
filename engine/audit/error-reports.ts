// Every error answered is recorded (meta.error_reports, plus a small in-memory ring for when
// the database itself is the problem) and reachable at /_errors/{id}.
import crypto from 'node:crypto';
import type { Db } from '../db/connect.ts';
import type { ApiError, DefinitionRef } from '../api/errors.ts';
import type { Logger } from 'pino';

export interface ErrorReport {
  error_id: string;
  code: string;
  status: number;
  message: string;
  details: Record<string, unknown> | null;
  hint: string | null;
  fingerprint: string;
  stack: string | null;
  request: Record<string, unknown> | null;
  user_id: string | null;
  role_name: string | null;
  definition_refs: DefinitionRef[];
  created_at: string;
}

const SECRET_KEY = /pass(word)?|secret|private|token|api[_-]?key|signature|cookie|authorization|mnemonic|seed/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]));
}

export interface RequestInfo { method: string; url: string; route?: string; headers: Record<string, unknown>; body?: unknown; requestId?: string }

export class ErrorReports {
  private ring: ErrorReport[] = [];
  constructor(private db: Db, private log: Logger, private ringSize = 500) {}

  async record(err: ApiError, req: RequestInfo, stack: string | null, user: { id: string | null; role: string | null }): Promise<ErrorReport> {
    const path = req.url.split('?')[0];
    const loc = err.details ? ['column', 'parameter', 'entity', 'action', 'relation', 'constraint'].map((k) => err.details![k]).filter((v) => v !== undefined).join('|') : '';
    const fingerprint = crypto.createHash('sha1').update(`${err.code}|${req.method}|${req.route ?? path}|${path}|${loc}`).digest('hex').slice(0, 16);
    const report: ErrorReport = {
      error_id: crypto.randomUUID(), code: err.code, status: err.status, message: err.message, details: err.details,
      hint: err.hint, fingerprint, stack,
      request: {
        method: req.method, url: req.url, request_id: req.requestId ?? null,
        headers: redact(Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['cookie', 'authorization'].includes(k)))),
        body: req.body === undefined ? undefined : truncate(redact(req.body)),
      },
      user_id: user.id, role_name: user.role, definition_refs: err.refs, created_at: new Date().toISOString(),
    };
    this.ring.push(report);
    if (this.ring.length > this.ringSize) this.ring.shift();
    if (err.code !== 'C405') {
      try {
        await this.db.pool.query(
          `INSERT INTO meta.error_reports (error_id, code, status, message, details, hint, fingerprint, stack, request, user_id, role_name, definition_refs, created_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
          [report.error_id, report.code, report.status, report.message, json(report.details), report.hint, report.fingerprint, report.stack,
            json(report.request), report.user_id, report.role_name, JSON.stringify(report.definition_refs), report.created_at]);
      } catch (e) {
        this.log.warn({ err: (e as Error).message, error_id: report.error_id }, 'error report kept in memory only');
      }
    }
    return report;
  }

  async get(id: string): Promise<(ErrorReport & { repeats?: number }) | null> {
    let r: ErrorReport | undefined | null = this.ring.find((x) => x.error_id === id);
    if (!r && /^[0-9a-f-]{36}$/i.test(id)) {
      const res = await this.db.pool.query(`SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created FROM meta.error_reports WHERE error_id = $1`, [id]);
      if (res.rows[0]) r = { ...res.rows[0], created_at: res.rows[0].created };
    }
    if (!r) return null;
    const c = await this.db.pool.query('SELECT count(*)::int AS n FROM meta.error_reports WHERE fingerprint = $1', [r.fingerprint]).catch(() => null);
    return { ...r, repeats: c?.rows[0].n ?? undefined };
  }

  async list(since: Date | null, limit: number): Promise<unknown[]> {
    const res = await this.db.pool.query(
      `SELECT fingerprint, code, status, max(message) AS message, count(*)::int AS count, max(created_at) AS last_seen,
         (array_agg(error_id ORDER BY created_at DESC))[1] AS latest_error_id
       FROM meta.error_reports WHERE ($1::timestamptz IS NULL OR created_at >= $1)
       GROUP BY fingerprint, code, status ORDER BY max(created_at) DESC LIMIT $2`, [since, limit]);
    return res.rows.map((r) => ({ ...r, url: `/_errors/${r.latest_error_id}` }));
  }
}

function json(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

function truncate(v: unknown): unknown {
  const s = JSON.stringify(v);
  return s && s.length > 4096 ? { truncated: true, preview: s.slice(0, 4096) } : v;
}
