// The library fixture (test/fixtures/library) and assertions shared by the HTTP API tests.
import path from 'node:path';
import { expect } from 'vitest';
import { ROOT } from '../../engine/engine.ts';
import { startTestServer, type TestServer } from './engine.ts';

export const LIBRARY_APP = path.join(ROOT, 'test', 'fixtures', 'library');

export function startLibrary(): Promise<TestServer> {
  return startTestServer({ appDir: LIBRARY_APP });
}

export interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown> | null;
  hint: string | null;
  id: string;
  url: string;
}

// What statement text looks like when it leaks: keywords of the statements the planner builds,
// bound-parameter markers and the planner's table aliases.
const SQL_TEXT = /\bSELECT\b|\bINSERT INTO\b|\bUPDATE "|\bDELETE FROM\b|\bWHERE\b|\bRETURNING\b|json_agg|row_to_json|\$\d+|"_\d+"|\b_0\./;

/** Asserts the error envelope, its status and code, and that it carries no SQL text; returns the error. */
export async function expectApiError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: ErrorBody };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'hint', 'id', 'message', 'url']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.url).toBe(`/_errors/${body.error.id}`);
  expect(text).not.toMatch(SQL_TEXT);
  return body.error;
}

/** GET a path and return the parsed JSON body, asserting a 2xx status. */
export async function getJson<T = Record<string, unknown>[]>(s: TestServer, pathname: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await s.http(pathname, { headers });
  const text = await res.text();
  expect(res.status, text).toBeGreaterThanOrEqual(200);
  expect(res.status, text).toBeLessThan(300);
  return JSON.parse(text) as T;
}

/** The values of one key, in row order. */
export function pluck<T = unknown>(rows: Record<string, unknown>[], key: string): T[] {
  return rows.map((r) => r[key] as T);
}
