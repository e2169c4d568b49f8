// The engine's access layer at run time: current rules (reinstalled in the database when they
// change), who a request is, the model as its role sees it, and running SQL as that role with
// transaction-local request settings — so a pooled connection never carries one request's user
// into the next.
import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/connect.ts';
import type { DbClient } from '../db/types.ts';
import type { Model } from '../model/types.ts';
import type { Logger } from 'pino';
import { apiError } from '../api/errors.ts';
import { installAccess, pgRole } from './install.ts';
import { literal } from './inline.ts';
import { loadRules, modelForRole, type AccessRules, type RoleView, type Verb } from './rules.ts';
import { cookieName, findSession, readCookie, sessionConfig, type AuthContext } from './sessions.ts';
import { authenticateBearer, bearerAuthContext } from './api-tokens.ts';

export class Access {
  rules!: AccessRules;
  private views = new Map<string, RoleView>();
  private viewsOf: Model | null = null;

  constructor(private db: Db, private current: () => Model, private log: Logger) {}

  /** Load the rules and install them if they changed. Called at start and on every model reload. */
  async refresh(): Promise<void> {
    const model = this.current();
    const tables = [...model.entities.values()].map((e) => `${e.schema}.${e.table}${e.columns.filter((c) => c.secret).map((c) => `!${c.name}`).join('')}`).sort();
    const rules = await loadRules(this.db.pool, model.config, tables);
    const res = await this.db.tx((c) => installAccess(c, model, rules));
    if (res.installed) this.log.info({ roles: rules.roles.size, rules: rules.rules.length }, 'access rules installed');
    this.rules = rules;
    this.views.clear();
  }

  view(role: string): RoleView {
    const model = this.current();
    if (this.viewsOf !== model) { this.views.clear(); this.viewsOf = model; }
    let v = this.views.get(role);
    if (!v) { v = modelForRole(model, this.rules, role); this.views.set(role, v); }
    return v;
  }

  anonymous(): AuthContext {
    const role = this.rules.anonymousRole;
    return { userId: null, role, roles: [role], wallet: null, sessionId: null, permissions: this.rules.roles.get(role)?.permissions ?? new Set() };
  }

  /** The role a signed-in user acts as: the session's chosen role, else the one granting most. */
  pickRole(roles: string[], active: string | null): string {
    if (active && roles.includes(active) && this.rules.roles.has(active)) return active;
    const known = roles.filter((r) => this.rules.roles.has(r));
    if (!known.length) return this.rules.defaultRole;
    return known.sort((a, b) => (this.rules.roles.get(b)!.permissions.size - this.rules.roles.get(a)!.permissions.size) || a.localeCompare(b))[0];
  }

  secure(): boolean {
    return String(this.current().config.get('auth.siwe.uri') ?? '').startsWith('https://');
  }

  origin(): string | null {
    try { return new URL(String(this.current().config.get('auth.siwe.uri'))).origin; } catch { return null; }
  }

  async authenticate(req: FastifyRequest): Promise<AuthContext> {
    const bearer = await authenticateBearer(this.db.pool, req.headers.authorization, this.current().config);
    if (bearer) return bearerAuthContext(this.rules, bearer);
    const cfg = sessionConfig(this.current().config);
    const token = readCookie(req.headers.cookie, cookieName(cfg, this.secure()));
    return token ? this.authenticateToken(token) : this.anonymous();
  }

  async authenticateToken(token: string): Promise<AuthContext> {
    const cfg = sessionConfig(this.current().config);
    const s = await findSession(this.db.pool, token, cfg);
    if (!s) return this.anonymous();
    const roles = s.roles.length ? s.roles : [this.rules.defaultRole];
    const role = this.pickRole(roles, s.active_role);
    return { userId: s.user_id, role, roles, wallet: s.wallet_address, sessionId: s.session_id, permissions: this.rules.roles.get(role)?.permissions ?? new Set() };
  }

  /** Refuse a state-changing request from another origin (CSRF): Origin and Sec-Fetch-Site. */
  checkOrigin(req: FastifyRequest): void {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return;
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    const expected = this.origin();
    if (origin && origin !== expected) {
      throw apiError('C504', `Requests that change data must come from ${expected}; this one came from ${origin}`, { origin, expected });
    }
    if (typeof site === 'string' && !['same-origin', 'none'].includes(site)) {
      throw apiError('C504', `Requests that change data must come from the app itself (Sec-Fetch-Site: ${site})`, { sec_fetch_site: site });
    }
  }

  /** 401 for anonymous visitors, 403 for signed-in roles without a rule for the verb. */
  require(auth: AuthContext, entity: string, verb: Verb): void {
    const g = this.view(auth.role).grants.get(entity);
    if (g?.verbs.has(verb)) return;
    const refs = [{ table: 'meta.policies', key: entity }];
    if (!auth.userId) throw apiError('C500', `Sign in to ${verb} ${entity}`, { entity, verb, role: auth.role }, undefined, refs);
    throw apiError('C501', `Role "${auth.role}" may not ${verb} ${entity}`, { entity, verb, role: auth.role }, undefined, refs);
  }

  /** Run fn as the request's role, then (as the engine again) `after` in the same transaction. */
  /**
   * A read as the request's role in one round trip (PostgreSQL): transaction, settings, the
   * statement with its values as quoted literals, commit — one simple-protocol message.
   * standard_conforming_strings is pinned on for every connection, so quoting is exact.
   */
  async readAsRole(auth: AuthContext, text: string): Promise<Record<string, unknown>> {
    for (const v of [auth.role, auth.userId ?? '', auth.wallet ?? '']) {
      if (!/^[A-Za-z0-9_]*$/.test(v)) throw new Error(`refusing to run as an unsafe role or user value ${JSON.stringify(v)}`);
    }
    const res = await this.db.pool.query(`BEGIN; SELECT set_config('role', ${literal(pgRole(auth.role))}, true), set_config('request.user.id', ${literal(auth.userId ?? '')}, true),
      set_config('request.user.wallet_address', ${literal(auth.wallet ?? '')}, true), set_config('request.role', ${literal(auth.role)}, true); ${text}; COMMIT`)
      .catch(async (e) => { await this.db.pool.query('ROLLBACK').catch(() => {}); throw e; });
    const all = res as unknown as { rows: Record<string, unknown>[] }[];
    return all[2].rows[0];
  }

  async asRole<T>(auth: AuthContext, fn: (c: DbClient) => Promise<T>, after?: (c: DbClient, out: T) => Promise<void>): Promise<T> {
    // One round trip opens the transaction and sets the request's role and settings (values are
    // quoted literals: the simple protocol that allows two statements takes no parameters).
    for (const v of [auth.role, auth.userId ?? '', auth.wallet ?? '']) {
      // role names, numeric ids and hex addresses: nothing a literal could be escaped out of
      if (!/^[A-Za-z0-9_]*$/.test(v)) throw new Error(`refusing to run as an unsafe role or user value ${JSON.stringify(v)}`);
    }
    const c = await this.db.pool.connect();
    try {
      await c.query(`BEGIN; SELECT set_config('role', ${literal(pgRole(auth.role))}, true), set_config('request.user.id', ${literal(auth.userId ?? '')}, true),
        set_config('request.user.wallet_address', ${literal(auth.wallet ?? '')}, true), set_config('request.role', ${literal(auth.role)}, true)`);
      const out = await fn(c);
      if (after) {
        await c.query('RESET ROLE');
        await after(c, out);
      }
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }
}
