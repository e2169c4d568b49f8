// /_errors/{id}: one error with its request, stack and the definition rows involved, as a page
// for people and as JSON for tools (Accept: application/json or /_errors/{id}.json).
// /_errors?since=ISO: recent errors grouped by fingerprint, as JSON.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Engine } from '../../engine.ts';
import { apiError } from '../errors.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

function wantsJson(req: FastifyRequest, id: string): boolean {
  return id.endsWith('.json') || (req.headers.accept ?? '').includes('application/json');
}

export function registerErrorPages(app: FastifyInstance, engine: Engine): void {
  app.get('/_errors', async (req) => {
    const q = req.query as { since?: string; limit?: string };
    const since = q.since ? new Date(q.since) : null;
    if (since && Number.isNaN(since.getTime())) throw apiError('C100', `since="${q.since}" is not an ISO 8601 time`, { parameter: 'since' });
    const limit = Math.min(Number(q.limit ?? 100) || 100, 1000);
    return { errors: await engine.errors.list(since, limit) };
  });
  app.get('/_errors/:id', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const raw = req.params.id;
    const id = raw.replace(/\.json$/, '');
    const r = await engine.errors.get(id);
    if (!r) throw apiError('C901', `No error report ${id}`, { error_id: id });
    if (wantsJson(req, raw)) return r;
    const row = (k: string, v: unknown) => `<tr><th>${esc(k)}</th><td><pre>${esc(typeof v === 'string' ? v : JSON.stringify(v, null, 2))}</pre></td></tr>`;
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error ${esc(r.code)} · ${esc(id)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:14px system-ui,sans-serif;background:#0f1115;color:#e6e6e6;margin:2rem;max-width:1100px}th{text-align:left;vertical-align:top;padding:.4rem 1rem .4rem 0;color:#9aa4b2;white-space:nowrap}pre{margin:0;white-space:pre-wrap;word-break:break-word}a{color:#7cc4ff}h1{font-size:1.3rem}</style></head>
<body><h1>${esc(r.code)} — ${esc(r.message)}</h1><p><a href="/_errors/${esc(id)}.json">JSON</a> · <a href="/_errors">recent errors</a></p><table>
${row('status', r.status)}${row('hint', r.hint)}${row('details', r.details)}${row('definition rows involved', r.definition_refs)}
${row('when', r.created_at)}${row('user', r.user_id ?? 'anonymous')}${row('role', r.role_name)}${row('repeats (same fingerprint)', `${r.repeats ?? 1} · ${r.fingerprint}`)}
${row('request', r.request)}${r.stack ? row('stack', r.stack) : ''}</table></body></html>`;
  });
}
