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
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export interface Statement { text: string; values: unknown[] }
