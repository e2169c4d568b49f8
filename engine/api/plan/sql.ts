// SQL text assembly: identifiers come only from the model and are always quoted; values are
// always bound parameters.
import type { Entity } from '../../model/types.ts';

export function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function tableRef(e: Entity): string {
  return `${ident(e.schema)}.${ident(e.table)}`;
}

export class Params {
  readonly values: unknown[] = [];
  /** Bind a value; `sqlType` is the type it is compared with (used when values are inlined). */
  add(v: unknown, sqlType?: string): string {
    void sqlType;
    this.values.push(v);
    return `$${this.values.length}`;
  }
  /** Whether a filter value is a variable bound at run time ($user.id, $now-7d): never in requests. */
  isVariable(v: string): boolean {
    void v;
    return false;
  }
}

export interface Statement { text: string; values: unknown[] }
