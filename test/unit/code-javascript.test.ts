// JavaScript / TypeScript readers on real-looking entry files: exact ports, lines, env names, routes, URLs, imports.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initCodeReaders, readCode } from '../../server/src/engine/code';

const lines = (...l: string[]): string => l.join('\n');

before(async () => {
  await initCodeReaders(['javascript', 'typescript', 'tsx']);
});

describe('code readers: JavaScript', () => {
  it('resolves app.listen(PORT) through a const bound to process.env.PORT || 3000', () => {
    const facts = readCode(
      'javascript',
      lines(
        "const express = require('express');",
        'const PORT = process.env.PORT || 3000;',
        'const app = express();',
        "app.get('/health', (req, res) => res.send('ok'));",
        "app.listen(PORT, () => console.log('listening'));",
      ),
    );
    assert.deepEqual(facts.ports, [
      { port: 3000, line: 5, reason: 'app.listen(PORT), PORT = process.env.PORT || 3000', envVar: 'PORT' },
    ]);
    assert.deepEqual(facts.envReads, [{ name: 'PORT', line: 2, defaultValue: '3000' }]);
    assert.deepEqual(facts.routes, [{ path: '/health', line: 4, method: 'GET' }]);
    assert.deepEqual(facts.imports, [{ module: 'express', line: 1 }]);
  });

  it('reports a chained listen on the line of .listen', () => {
    const facts = readCode('javascript', lines('http', '  .createServer(app)', '  .listen(7070);'));
    assert.deepEqual(facts.ports, [{ port: 7070, line: 3, reason: 'listen(7070)' }]);
  });

  it('reads literal listens, fastify objects, ?? / Number / parseInt defaults and WebSocketServer ports', () => {
    const facts = readCode(
      'javascript',
      lines(
        'app.listen(3000);',
        "await fastify.listen({ port: 4000, host: '0.0.0.0' });",
        "const p1 = process.env.PORT ?? '8080';",
        'server.listen(p1);',
        'const p2 = Number(process.env.API_PORT) || 4001;',
        'api.listen(p2);',
        "const p3 = parseInt(process.env.ADMIN_PORT || '3002', 10);",
        'admin.listen(p3);',
        'const wss = new WebSocketServer({ port: 8090 });',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [
        [3000, 1, undefined],
        [4000, 2, undefined],
        [8080, 4, 'PORT'],
        [4001, 6, 'API_PORT'],
        [3002, 8, 'ADMIN_PORT'],
        [8090, 9, undefined],
      ],
    );
    assert.equal(facts.ports[1].reason, 'fastify.listen({ port: 4000 })');
    assert.deepEqual(facts.envReads, [
      { name: 'PORT', line: 3, defaultValue: '8080' },
      { name: 'API_PORT', line: 5, defaultValue: '4001' },
      { name: 'ADMIN_PORT', line: 7, defaultValue: '3002' },
    ]);
  });

  it('rejects nonsense ports and listens without a number', () => {
    const facts = readCode(
      'javascript',
      lines(
        'app.listen(0);',
        'app.listen(70000);',
        'app.listen(process.env.PORT);',
        'app.listen(config.port);',
        "emitter.listen('ready');",
        'app.listen(3000.5);',
      ),
    );
    assert.deepEqual(facts.ports, []);
    assert.deepEqual(facts.envReads, [{ name: 'PORT', line: 3 }]);
  });

  it('reads env by member, subscript and destructuring (with defaults)', () => {
    const facts = readCode(
      'javascript',
      lines(
        'const url = process.env.DATABASE_URL;',
        "const key = process.env['API_KEY'];",
        "const { REDIS_URL, LOG_LEVEL = 'info', PORT = 5050 } = process.env;",
        'http.createServer(handler).listen(PORT);',
      ),
    );
    assert.deepEqual(facts.envReads, [
      { name: 'DATABASE_URL', line: 1 },
      { name: 'API_KEY', line: 2 },
      { name: 'REDIS_URL', line: 3 },
      { name: 'LOG_LEVEL', line: 3, defaultValue: 'info' },
      { name: 'PORT', line: 3, defaultValue: '5050' },
    ]);
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[5050, 4, 'PORT']],
    );
  });

  it('finds express, router and fastify routes but not HTTP client calls', () => {
    const facts = readCode(
      'javascript',
      lines(
        "router.get('/healthz', handler);",
        "fastify.post('/items', async (req) => ({}));",
        "app.route('/ready').get((req, res) => res.end());",
        "axios.get('/api/users', onDone);",
        "cache.get('/key', fallback);",
        "fastify.route({ method: 'GET', url: '/livez', handler });",
        "app.use('/static', serve);",
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/healthz', line: 1, method: 'GET' },
      { path: '/items', line: 2, method: 'POST' },
      { path: '/ready', line: 3 },
      { path: '/livez', line: 6, method: 'GET' },
    ]);
  });

  it('reads express-generator bin/www (normalizePort, app.set, server.listen)', () => {
    const facts = readCode(
      'javascript',
      lines(
        "var app = require('../app');",
        "var http = require('http');",
        "var port = normalizePort(process.env.PORT || '3000');",
        "app.set('port', port);",
        'var server = http.createServer(app);',
        'server.listen(port);',
      ),
    );
    assert.deepEqual(facts.ports, [
      {
        port: 3000,
        line: 4,
        reason: "app.set('port', port), port = normalizePort(process.env.PORT || '3000')",
        envVar: 'PORT',
      },
    ]);
  });

  it('reads client host names but not loopback or listen hosts', () => {
    const facts = readCode(
      'javascript',
      lines(
        "const pool = new Pool({ host: process.env.PGHOST || 'db', port: 5432 });",
        "const redis = new Redis({ host: 'cache' });",
        "app.listen({ port: 3000, host: '0.0.0.0' });",
        "const local = { hostname: 'localhost' };",
      ),
    );
    assert.deepEqual(facts.hosts, [
      { host: 'db', line: 1 },
      { host: 'cache', line: 2 },
    ]);
    assert.deepEqual(
      facts.ports.map((p) => p.port),
      [3000],
    );
  });

  it('collects URL literals and template literals, and every import form', () => {
    const facts = readCode(
      'javascript',
      lines(
        "import pg from 'pg';",
        "import { createClient } from 'redis';",
        "export { thing } from './thing.js';",
        "const amqp = require('amqplib');",
        "const lazy = await import('./lazy.js');",
        "const db = 'postgres://db:5432/app';",
        'const users = `http://users:3000/v1/${id}`;',
        "const notUrl = 'hello http://x';",
      ),
    );
    assert.deepEqual(facts.urls, [
      { url: 'postgres://db:5432/app', line: 6 },
      { url: 'http://users:3000/v1/${id}', line: 7 },
    ]);
    assert.deepEqual(
      facts.imports.map((i) => [i.module, i.line]),
      [
        ['pg', 1],
        ['redis', 2],
        ['./thing.js', 3],
        ['amqplib', 4],
        ['./lazy.js', 5],
      ],
    );
  });
});

describe('code readers: TypeScript', () => {
  it('reads a NestJS controller with its prefix and a bootstrap listen', () => {
    const facts = readCode(
      'typescript',
      lines(
        "import { Controller, Get } from '@nestjs/common';",
        "import { NestFactory } from '@nestjs/core';",
        "@Controller('api')",
        'export class HealthController {',
        "  @Get('health')",
        "  check(): string { return 'ok'; }",
        '  @Get()',
        '  root(): string { return "x"; }',
        '}',
        'async function bootstrap(): Promise<void> {',
        '  const app = await NestFactory.create(AppModule);',
        '  await app.listen(process.env.PORT ?? 3001);',
        '}',
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/api/health', line: 5, method: 'GET' },
      { path: '/api', line: 7, method: 'GET' },
    ]);
    assert.deepEqual(facts.ports, [
      { port: 3001, line: 12, reason: 'app.listen(process.env.PORT ?? 3001)', envVar: 'PORT' },
    ]);
  });

  it('unwraps `as` casts and reads a hono/Bun serve config', () => {
    const facts = readCode(
      'typescript',
      lines(
        'const port = (process.env.PORT as string | undefined) || 8787;',
        'serve({ fetch: app.fetch, port });',
        "const base: string = 'redis://cache:6379';",
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[8787, 2, 'PORT']],
    );
    assert.deepEqual(facts.urls, [{ url: 'redis://cache:6379', line: 3 }]);
  });

  it('parses TSX components without inventing ports', () => {
    const facts = readCode(
      'tsx',
      lines(
        "import React from 'react';",
        'export const App = () => <a href="https://example.com/docs">{process.env.NEXT_PUBLIC_API}</a>;',
      ),
    );
    assert.deepEqual(facts.ports, []);
    assert.deepEqual(facts.envReads, [{ name: 'NEXT_PUBLIC_API', line: 2 }]);
    assert.deepEqual(facts.imports, [{ module: 'react', line: 1 }]);
  });
});

describe('code readers: plain node:http handlers', () => {
  it('finds routes compared against req.url or a parsed pathname, and a ternary PORT default', () => {
    const facts = readCode(
      'javascript',
      lines(
        "const http = require('node:http');",
        'const port = process.env.PORT ? Number(process.env.PORT) : 3333;',
        'http.createServer((req, res) => {',
        "  if (req.url === '/health') return res.end('ok');",
        "  if ('/ready' == new URL(req.url, 'http://x').pathname) return res.end('ready');",
        "  if (req.url === 'health') return;",
        '}).listen(port);',
      ),
    );
    assert.deepEqual(
      facts.routes.map((r) => [r.path, r.line]),
      [
        ['/health', 4],
        ['/ready', 5],
      ],
    );
    assert.equal(facts.ports[0]?.port, 3333);
    assert.equal(facts.ports[0]?.envVar, 'PORT');
  });
});
