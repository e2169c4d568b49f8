// Prefer, Range and Accept headers, PostgREST-style.
import { apiError } from './errors.ts';

export interface Prefer {
  return: 'minimal' | 'headers-only' | 'representation';
  count: 'none' | 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missingDefault: boolean;
}

export function parsePrefer(header: string | string[] | undefined, defaults: Partial<Prefer> = {}): Prefer {
  const p: Prefer = { return: 'minimal', count: 'none', missingDefault: false, ...defaults };
  const text = Array.isArray(header) ? header.join(',') : header ?? '';
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v] = raw.split('=').map((s) => s.trim());
    if (k === 'return' && (v === 'minimal' || v === 'headers-only' || v === 'representation')) p.return = v;
    else if (k === 'count' && (v === 'exact' || v === 'planned' || v === 'estimated')) p.count = v;
    else if (k === 'resolution' && (v === 'merge-duplicates' || v === 'ignore-duplicates')) p.resolution = v;
    else if (k === 'missing' && (v === 'default' || v === 'null')) p.missingDefault = v === 'default';
    else if (k === 'handling' || k === 'timezone' || k === 'tx' || k === 'max-affected' || k === 'params') continue; // accepted, not acted on
    else throw apiError('C109', `Unsupported preference "${raw}" in the Prefer header`, { header: 'Prefer', value: raw });
  }
  return p;
}

/** Range: items=0-24 (or 0-24, or 10-) → offset/limit */
export function parseRange(header: string | undefined): { offset: number; limit?: number } | undefined {
  if (!header) return undefined;
  const m = /^(?:items=)?\s*(\d+)-(\d*)\s*$/.exec(header);
  if (!m) throw apiError('C107', `Range header "${header}" is not items=from-to`, { header: 'Range', value: header });
  const from = Number(m[1]);
  if (m[2] === '') return { offset: from };
  const to = Number(m[2]);
  if (to < from) throw apiError('C107', `Range "${header}" ends before it starts`, { header: 'Range', value: header });
  return { offset: from, limit: to - from + 1 };
}

export type Accept = 'json' | 'object' ;

export function parseAccept(header: string | undefined): Accept {
  if (!header) return 'json';
  const types = header.split(',').map((s) => s.split(';')[0].trim().toLowerCase());
  if (types.includes('application/vnd.pgrst.object+json') || types.includes('application/vnd.pgrst.object')) return 'object';
  if (types.some((t) => t === 'application/json' || t === '*/*' || t === 'application/*' || t === 'application/openapi+json')) return 'json';
  throw apiError('C110', `Cannot answer with ${header}`, { header: 'Accept', value: header });
}

export function contentRange(offset: number, page: number, total: number | null): string {
  const range = page > 0 ? `${offset}-${offset + page - 1}` : '*';
  return `${range}/${total ?? '*'}`;
}
