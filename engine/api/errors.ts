// One registry of error codes, grouped by the pipeline stage that raises them. Codes are never
// reused: retire a code by leaving it here with `retired: true`.
//   C1xx request parsing · C2xx model / schema cache · C3xx planning & validation
//   C4xx database execution · C5xx access · C6xx actions · C9xx internal

export interface ErrorDef { status: number; stage: string; title: string; hint?: string; retired?: boolean }

export const ERRORS = {
  C100: { status: 400, stage: 'parse', title: 'Malformed query parameter', hint: 'Check the parameter against the query grammar in docs/API.md.' },
  C101: { status: 400, stage: 'parse', title: 'Unknown filter operator', hint: 'Use one of eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, in, is, isdistinct, cs, cd, ov, fts, plfts, phfts, wfts, optionally prefixed with not.' },
  C102: { status: 400, stage: 'parse', title: 'Malformed select', hint: 'select takes a comma list of columns, alias:column, column::cast, json->path and relation(columns).' },
  C103: { status: 400, stage: 'parse', title: 'Malformed order', hint: 'order takes column[.asc|.desc][.nullsfirst|.nullslast], comma separated.' },
  C104: { status: 400, stage: 'parse', title: 'Malformed logic tree', hint: 'or/and take a parenthesised list: or=(status.eq.OPEN,net_pnl_usd.gt.0).' },
  C105: { status: 400, stage: 'parse', title: 'Malformed JSON body', hint: 'Send valid JSON with Content-Type: application/json.' },
  C106: { status: 413, stage: 'parse', title: 'Request body too large', hint: 'Split the request into smaller batches.' },
  C107: { status: 400, stage: 'parse', title: 'Invalid limit, offset or range', hint: 'limit and offset are non-negative integers; Range is items=from-to.' },
  C108: { status: 415, stage: 'parse', title: 'Unsupported media type', hint: 'Send Content-Type: application/json.' },
  C109: { status: 400, stage: 'parse', title: 'Invalid Prefer header', hint: 'Supported: return=minimal|headers-only|representation, count=exact|planned|estimated, resolution=merge-duplicates|ignore-duplicates, missing=default.' },
  C110: { status: 406, stage: 'parse', title: 'Not acceptable', hint: 'Accept application/json, application/vnd.pgrst.object+json or text/csv.' },
  C200: { status: 404, stage: 'model', title: 'Unknown entity', hint: 'GET /api/openapi.json lists the entities this API serves.' },
  C201: { status: 400, stage: 'model', title: 'Unknown column', hint: 'GET /api/openapi.json lists each entity\'s columns.' },
  C202: { status: 400, stage: 'model', title: 'No relationship for embedding', hint: 'Embedding follows foreign keys; name the relation as a table linked by a foreign key, or disambiguate with table!constraint.' },
  C203: { status: 300, stage: 'model', title: 'Ambiguous relationship', hint: 'Several foreign keys link these tables; pick one with table!constraint_name or table!column.' },
  C204: { status: 404, stage: 'model', title: 'Unknown action', hint: 'Actions are rows of meta.actions; GET /api/openapi.json lists them under /rpc.' },
  C300: { status: 400, stage: 'plan', title: 'Invalid value for column type', hint: 'Send a value of the column\'s type (see the column\'s schema in OpenAPI).' },
  C301: { status: 400, stage: 'plan', title: 'Filter required', hint: 'PATCH and DELETE must name the rows they change with at least one filter, e.g. ?id=eq.42.' },
  C302: { status: 400, stage: 'plan', title: 'Limit above the maximum', hint: 'Ask for fewer rows per page and use offset or Range to page.' },
  C303: { status: 400, stage: 'plan', title: 'Invalid body', hint: 'Send a JSON object, or an array of objects for a bulk insert.' },
  C304: { status: 400, stage: 'plan', title: 'Column cannot be written', hint: 'Generated, read-only and identity columns are set by the server.' },
  C305: { status: 405, stage: 'plan', title: 'Method not allowed on this entity', hint: 'Views and materialized views are read-only unless they are automatically updatable.' },
  C306: { status: 400, stage: 'plan', title: 'Invalid on_conflict', hint: 'on_conflict names the columns of a unique key or the primary key.' },
  C307: { status: 400, stage: 'plan', title: 'Invalid action arguments', hint: 'The body must match the action\'s params_schema.' },
  C308: { status: 406, stage: 'plan', title: 'Singular response expected', hint: 'With Accept: application/vnd.pgrst.object+json the request must match exactly one row.' },
  C309: { status: 416, stage: 'plan', title: 'Range not satisfiable', hint: 'The requested range starts after the last row.' },
  C400: { status: 409, stage: 'db', title: 'Duplicate key', hint: 'A row with this key exists; use PATCH, or POST with Prefer: resolution=merge-duplicates.' },
  C401: { status: 409, stage: 'db', title: 'Foreign key violation', hint: 'The referenced row does not exist, or other rows still reference this one.' },
  C402: { status: 400, stage: 'db', title: 'Missing required value', hint: 'Send a value for every NOT NULL column that has no default.' },
  C403: { status: 400, stage: 'db', title: 'Check constraint violated', hint: 'The value is outside what the column allows; its comment in OpenAPI says what is allowed.' },
  C404: { status: 400, stage: 'db', title: 'Invalid input for the database', hint: 'A value could not be converted to the column type.' },
  C405: { status: 503, stage: 'db', title: 'Database unavailable', hint: 'The database did not answer; retry shortly. /readyz shows its state.' },
  C406: { status: 504, stage: 'db', title: 'Statement timeout', hint: 'Narrow the filters or add an index; the statement exceeded api.statement_timeout_ms.' },
  C407: { status: 403, stage: 'db', title: 'Refused by the database', hint: 'The database refused the statement for this role.' },
  C500: { status: 401, stage: 'access', title: 'Sign-in required', hint: 'Sign in with your wallet (GET /auth/nonce, then POST /auth/verify); anonymous visitors may not do this.' },
  C501: { status: 403, stage: 'access', title: 'Not allowed for this role', hint: 'No rule in meta.policies grants this to your role; GET /api/_access/explain?entity=…&verb=… says why.' },
  C502: { status: 403, stage: 'access', title: 'Column not allowed for this role', hint: 'Your role\'s rules do not grant this column; it cannot be selected, filtered, ordered or written.' },
  C503: { status: 403, stage: 'access', title: 'Owner column is set by the server', hint: 'Leave the owner column out of the body: it is filled with your user id.' },
  C504: { status: 403, stage: 'access', title: 'Cross-origin request refused', hint: 'State-changing requests must come from the app\'s own origin (auth.siwe.uri).' },
  C505: { status: 401, stage: 'access', title: 'Sign-in failed', hint: 'Ask for a new nonce and sign the message again; details say which check failed.' },
  C506: { status: 403, stage: 'access', title: 'Permission required', hint: 'Your role lacks the permission this action names (meta.actions.permission).' },
  C600: { status: 403, stage: 'action', title: 'Action disabled', hint: 'The action row has enabled=false.' },
  C601: { status: 500, stage: 'action', title: 'Action target missing', hint: 'The action names a function or building block that does not exist; run carry doctor.' },
  C900: { status: 500, stage: 'internal', title: 'Unexpected error', hint: 'Open the error URL for the stack and request; it is recorded in meta.error_reports.' },
  C901: { status: 404, stage: 'internal', title: 'Not found', hint: 'No route matches this path.' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

export interface DefinitionRef { table: string; key: string; path?: string }

export class ApiError extends Error {
  readonly status: number;
  constructor(
    public code: ErrorCode,
    message: string,
    public details: Record<string, unknown> | null = null,
    public hint: string | null = null,
    public refs: DefinitionRef[] = [],
  ) {
    super(message);
    this.status = ERRORS[code].status;
    this.hint = hint ?? ERRORS[code].hint ?? null;
  }
}

export function apiError(code: ErrorCode, message: string, details?: Record<string, unknown>, hint?: string, refs?: DefinitionRef[]): ApiError {
  return new ApiError(code, message, details ?? null, hint ?? null, refs ?? []);
}
