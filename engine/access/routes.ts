// Sign-in with Ethereum and sessions over HTTP:
//   GET  /auth/nonce    a single-use nonce (stored, expiring) and the message fields to sign
//   POST /auth/verify   {message, signature} → a new session cookie
//   GET  /auth/session  who you are: user, roles, the role in use, permissions
//   POST /auth/signout  ends the session at once
// Expected domain, URI, chains and lifetimes come from system_configuration only.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../engine.ts';
import { apiError } from '../api/errors.ts';
import { parseSiweMessage, SiweParseError } from './siwe/parse.ts';
import { verifySiwe, SiweVerifyError } from './siwe/verify.ts';
import { clearCookie, cookieName, createSession, revokeSession, sessionConfig, sessionCookie } from './sessions.ts';
import { registerExplain } from './explain.ts';
import { appendAudit } from '../audit/chain.ts';
import { rpcClientFor } from './rpc-clients.ts';
import { registerApiTokenRoutes, registerPasswordAuth } from './password-routes.ts';

function siweConfig(engine: Engine) {
  const c = engine.store.current.config;
  const chains = Array.isArray(c.get('auth.siwe.chains')) ? (c.get('auth.siwe.chains') as unknown[]).map(Number).filter(Number.isInteger) : [1];
  return {
    domain: String(c.get('auth.siwe.domain') ?? 'localhost:3000'),
    uri: String(c.get('auth.siwe.uri') ?? 'http://localhost:3000'),
    chainIds: chains,
    statement: typeof c.get('auth.siwe.statement') === 'string' ? String(c.get('auth.siwe.statement')) : undefined,
    skew: Number(c.get('auth.siwe.max_clock_skew_seconds') ?? 60),
    nonceTtl: Number(c.get('auth.nonce_ttl_seconds') ?? 300),
  };
}

export function sessionBody(engine: Engine, req: FastifyRequest) {
  const a = req.auth;
  return {
    signed_in: !!a.userId, user_id: a.userId, wallet_address: a.wallet, role: a.role, roles: a.roles,
    permissions: [...a.permissions].sort(),
    role_description: engine.access.rules.roles.get(a.role)?.description ?? null,
  };
}

/** An auth event in the audit log, in its own transaction (failures must be kept too). */
export async function audit(engine: Engine, req: FastifyRequest, action: string, details: Record<string, unknown>, userId: string | null) {
  await engine.db.tx((c) => appendAudit(c, {
    userId, roleName: req.auth.role, action, entity: 'auth', details, requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? ''),
  })).catch((e) => engine.logs.module('access').warn({ err: (e as Error).message }, 'audit row not written'));
}

export function registerAuth(app: FastifyInstance, engine: Engine): void {
  app.get('/auth/nonce', async (_req, reply) => {
    const cfg = siweConfig(engine);
    const nonce = crypto.randomBytes(16).toString('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 17).padEnd(17, '0');
    await engine.db.pool.query(`INSERT INTO meta.auth_nonces (nonce, expires_at) VALUES ($1, now() + make_interval(secs => $2))`, [nonce, cfg.nonceTtl]);
    reply.header('cache-control', 'no-store');
    return { nonce, domain: cfg.domain, uri: cfg.uri, chain_ids: cfg.chainIds, statement: cfg.statement ?? null, version: '1', expires_in: cfg.nonceTtl };
  });

  app.post('/auth/verify', async (req: FastifyRequest, reply: FastifyReply) => {
    engine.access.checkOrigin(req);
    const body = (req.body ?? {}) as { message?: unknown; signature?: unknown };
    if (typeof body.message !== 'string' || typeof body.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(body.signature)) {
      throw apiError('C303', 'POST /auth/verify takes {"message": the signed SIWE text, "signature": "0x…"}', { location: 'body' });
    }
    const cfg = siweConfig(engine);
    const fail = async (reason: string, message: string) => {
      await audit(engine, req, 'sign_in_failed', { reason }, null);
      return apiError('C505', message, { reason });
    };
    let parsed;
    try {
      parsed = parseSiweMessage(body.message);
    } catch (e) {
      if (e instanceof SiweParseError) throw await fail('malformed', `The message is not a valid EIP-4361 message: ${e.message}`);
      throw e;
    }
    let verified;
    try {
      verified = await verifySiwe({
        message: body.message, signature: body.signature as `0x${string}`,
        expected: { domain: cfg.domain, uri: cfg.uri, chainIds: cfg.chainIds, nonce: parsed.nonce, now: new Date(), clockSkewSeconds: cfg.skew, maxAgeSeconds: Math.max(cfg.nonceTtl, 60) },
        publicClientFor: (chainId) => rpcClientFor(engine.db.pool, chainId),
      });
    } catch (e) {
      if (e instanceof SiweVerifyError) throw await fail(e.reason, `Sign-in refused (${e.reason}): ${e.message}`);
      throw e;
    }
    const scfg = sessionConfig(engine.store.current.config);
    const result = await engine.db.tx(async (c) => {
      // The nonce is consumed in the same transaction that creates the session: one use only.
      const n = await c.query(`UPDATE meta.auth_nonces SET consumed_at = now() WHERE nonce = $1 AND consumed_at IS NULL AND expires_at > now() RETURNING nonce`, [verified.nonce]);
      if (!n.rows.length) return null;
      const address = verified.address;
      let user = (await c.query(`SELECT user_id::text AS id, is_active FROM meta.users WHERE lower(wallet_address) = lower($1)`, [address])).rows[0];
      if (!user) {
        user = (await c.query(`INSERT INTO meta.users (username, wallet_address) VALUES ($1, $1) RETURNING user_id::text AS id, is_active`, [address])).rows[0];
        await c.query(`INSERT INTO meta.user_roles (user_id, role_id) SELECT $1, role_id FROM meta.roles WHERE role_name = $2`, [user.id, engine.access.rules.defaultRole]);
      }
      if (!user.is_active) return { inactive: true as const };
      await c.query('UPDATE meta.users SET last_login_at = now() WHERE user_id = $1', [user.id]);
      const s = await createSession(c, { userId: user.id, method: 'siwe', wallet: address, chainId: verified.chainId, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? ''), cfg: scfg });
      return { userId: user.id as string, ...s };
    });
    if (!result) throw await fail('nonce', 'The nonce is unknown, expired or already used: ask GET /auth/nonce for a new one');
    if ('inactive' in result) throw await fail('inactive', 'This account is disabled');
    await audit(engine, req, 'sign_in', { wallet_address: verified.address, chain_id: verified.chainId, session_id: result.sessionId }, result.userId);
    const secure = engine.access.secure();
    reply.header('set-cookie', sessionCookie(cookieName(scfg, secure), result.token, scfg.absoluteSeconds, secure));
    reply.header('cache-control', 'no-store');
    req.auth = await engine.access.authenticateToken(result.token);
    return sessionBody(engine, req);
  });

  app.get('/auth/session', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return sessionBody(engine, req);
  });

  app.post('/auth/signout', async (req, reply) => {
    engine.access.checkOrigin(req);
    const scfg = sessionConfig(engine.store.current.config);
    const secure = engine.access.secure();
    if (req.auth.sessionId) {
      await revokeSession(engine.db.pool, req.auth.sessionId);
      await audit(engine, req, 'sign_out', { session_id: req.auth.sessionId }, req.auth.userId);
    }
    reply.header('set-cookie', clearCookie(cookieName(scfg, secure), secure));
    return { signed_in: false };
  });

  registerExplain(app, engine);
  registerPasswordAuth(app, engine);
  registerApiTokenRoutes(app, engine);
}
