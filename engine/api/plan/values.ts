// Checks values against column types before SQL runs, so a wrong type is a 400 that names the
// column and the value, not a database error.
import { apiError } from '../errors.ts';
import type { Column, TypeClass } from '../../model/types.ts';

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const BOOL = /^(true|false|t|f|yes|no|on|off|1|0)$/i;

const RANGES: Record<string, [bigint, bigint]> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-9223372036854775808n, 9223372036854775807n],
};

function describe(cls: TypeClass, col: Column): string {
  return { integer: 'an integer', number: 'a number', boolean: 'true or false', uuid: 'a UUID', timestamp: 'an ISO 8601 timestamp', date: 'a date (YYYY-MM-DD)' }[cls as string] ?? `a value of type ${col.sqlType}`;
}

/** Validate a textual value (from a URL filter) for a column's scalar type. */
export function checkText(col: Column, value: string, where: string, cls: TypeClass = col.typeClass): void {
  let ok = true;
  const v = value.trim(); // PostgreSQL reads numbers and booleans with surrounding spaces, e.g. in.(1, 2)
  if (cls === 'integer') {
    ok = INT.test(v);
    const r = RANGES[col.typeName];
    if (ok && r) { const n = BigInt(v); ok = n >= r[0] && n <= r[1]; }
  } else if (cls === 'number') ok = NUM.test(v) || /^(NaN|-?Infinity)$/.test(v) && col.typeName !== 'numeric';
  else if (cls === 'boolean') ok = BOOL.test(v);
  else if (cls === 'uuid') ok = UUID.test(value);
  else if (cls === 'timestamp' || cls === 'date') ok = value === 'now' || value === 'today' || !Number.isNaN(Date.parse(value)) || /^-?infinity$/.test(value);
  if (!ok) {
    throw apiError('C300', `"${value}" is not ${describe(cls, col)}, as column "${col.name}" (${col.sqlType}) needs, in ${where}`, { column: col.name, type: col.sqlType, value, location: where });
  }
}

/** Validate and convert one JSON body value for a column; returns what is bound. */
export function bodyValue(col: Column, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return null;
  const cls = col.typeClass;
  if (cls === 'json') return JSON.stringify(value);
  if (cls === 'array') {
    if (!Array.isArray(value)) throw apiError('C300', `Column "${col.name}" (${col.sqlType}) needs a JSON array, at ${where}`, { column: col.name, type: col.sqlType, location: where });
    value.forEach((v, i) => {
      if (v !== null && typeof v === 'object' && col.elementClass !== 'json') {
        throw apiError('C300', `Element ${i} of "${col.name}" must be a scalar, at ${where}`, { column: col.name, location: `${where}[${i}]` });
      }
      if (v !== null && typeof v !== 'object') checkText(col, String(v), `${where}[${i}]`, col.elementClass);
    });
    return col.elementClass === 'json' ? value.map((v) => JSON.stringify(v)) : value;
  }
  if (typeof value === 'object') {
    throw apiError('C300', `Column "${col.name}" (${col.sqlType}) takes a scalar, got ${Array.isArray(value) ? 'an array' : 'an object'}, at ${where}`, { column: col.name, type: col.sqlType, location: where });
  }
  if (cls === 'boolean' && typeof value !== 'boolean') {
    throw apiError('C300', `Column "${col.name}" needs true or false, got ${JSON.stringify(value)}, at ${where}`, { column: col.name, type: col.sqlType, value, location: where });
  }
  if ((cls === 'integer' || cls === 'number') && typeof value !== 'number' && typeof value !== 'string') {
    throw apiError('C300', `Column "${col.name}" needs a number, got ${JSON.stringify(value)}, at ${where}`, { column: col.name, type: col.sqlType, value, location: where });
  }
  const text = typeof value === 'number' ? numberText(value) : String(value);
  if (cls !== 'text' && cls !== 'other') checkText(col, text, where);
  return text;
}

function numberText(n: number): string {
  // Avoid exponent notation for integers that JSON gave us as floats.
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? BigInt(n).toString() : String(n);
}
