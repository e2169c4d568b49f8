// GET /api/openapi.json (and GET /api) and the interactive docs page at /api/docs.
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Engine } from '../../engine.ts';
import type { Model } from '../../model/types.ts';
import { buildOpenApi } from '../openapi.ts';

const require = createRequire(import.meta.url);

export function registerDocs(app: FastifyInstance, engine: Engine): void {
  const cache = new WeakMap<Model, string>();
  // Each role's document shows only what that role may use.
  const doc = (role: string, permissions: Set<string>) => {
    const view = engine.access.view(role);
    const m = view.model;
    let text = cache.get(m);
    if (!text) {
      const title = String(m.config.get('app.name') ?? 'API');
      text = JSON.stringify(buildOpenApi(m, {
        title: `${title} API`, version: `model-${m.version}`,
        verbs: (entity) => view.grants.get(entity)?.verbs ?? new Set(),
        canCall: (permission) => !permission || permissions.has(permission),
      }));
      cache.set(m, text);
    }
    return text;
  };
  const send = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => reply.type('application/openapi+json; charset=utf-8').send(doc(req.auth.role, req.auth.permissions));
  app.get('/api/openapi.json', send);
  app.get('/api', send);

  const uiDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  app.register(fastifyStatic, { root: uiDir, prefix: '/api/docs/static/', decorateReply: false, allowedPath: (p) => /^\/(swagger-ui(-bundle)?\.(js|css)|favicon-32x32\.png)$/.test(p) });
  app.get('/api/docs', async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API docs</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;
  });
  app.get('/api/docs/init.js', async (_req, reply) => {
    reply.type('application/javascript');
    return `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#ui', deepLinking: true, tryItOutEnabled: true });`;
  });
}
