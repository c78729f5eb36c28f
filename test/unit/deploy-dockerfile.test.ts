import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateDockerfile, DEFAULT_BASE_IMAGES } from '../../server/src/engine/deploy/index';
import { port, service } from '../support/docker-topology-builder';

describe('generated Dockerfiles', () => {
  test('node: official base by default, dependencies layer, numeric non-root user, EXPOSE, start command', () => {
    const text = generateDockerfile(
      service('api', {
        type: 'nodejs',
        ports: [port(3001)],
        build: {
          context: 'api',
          runtime: 'node',
          packageManager: 'npm',
          evidence: { file: 'api/package.json', reason: 'npm' },
        },
        start: { command: 'npm start', source: 'script', evidence: { file: 'api/package.json', reason: 'start' } },
        env: [{ name: 'API_KEY', value: 'very-secret', secret: true, evidence: { file: 'api/.env', reason: '.env' } }],
      }),
    );
    assert.match(text, /^FROM node:24-slim$/m);
    assert.equal(DEFAULT_BASE_IMAGES.node, 'node:24-slim');
    assert.match(text, /^COPY package\.json package-lock\.json\* \.\/$/m);
    assert.match(text, /npm ci --omit=dev/);
    assert.match(text, /^USER 10001:10001$/m);
    assert.match(text, /^EXPOSE 3001$/m);
    assert.match(text, /^CMD \["sh","-c","npm start"\]$/m);
    assert.ok(
      !text.includes('very-secret') && !text.includes('API_KEY'),
      'environment values are never baked into the image',
    );
    assert.ok(!/useradd|adduser/.test(text), 'works on minimal images without user tools');
  });

  test('node with a build framework is multi-stage; base image comes from options or kyozo.yaml', () => {
    const spa = service('web', {
      type: 'nodejs',
      frameworks: ['vite'],
      build: {
        context: 'web',
        runtime: 'node',
        packageManager: 'pnpm',
        evidence: { file: 'web/package.json', reason: 'x' },
      },
    });
    const text = generateDockerfile(spa, { node: 'registry.local/node:20' });
    assert.equal(text.match(/^FROM registry\.local\/node:20/gm)?.length, 2);
    assert.match(text, /AS build/);
    assert.match(text, /pnpm run build/);
    assert.match(text, /COPY --chown=10001:10001 --from=build/);
    const pinned = generateDockerfile(
      { ...spa, build: { ...spa.build!, baseImage: 'node:22-alpine' } },
      { node: 'ignored' },
    );
    assert.match(pinned, /^FROM node:22-alpine AS build$/m);
  });

  test('python, go, rust, static, java, php, ruby, dotnet all generate a runnable shape', () => {
    const py = generateDockerfile(
      service('svc', {
        type: 'python',
        ports: [port(8000)],
        indicators: ['svc/requirements.txt'],
        start: {
          command: 'uvicorn main:app --host 0.0.0.0 --port 8000',
          source: 'framework-default',
          evidence: { file: 'svc/main.py', reason: 'x' },
        },
      }),
    );
    assert.match(py, /^FROM python:3\.12-slim$/m);
    assert.match(py, /pip install --no-cache-dir -r requirements\.txt/);
    const go = generateDockerfile(service('gosvc', { type: 'golang', ports: [port(8080)] }));
    assert.match(go, /^FROM golang:1\.22 AS build$/m);
    assert.match(go, /^FROM gcr\.io\/distroless\/static-debian12$/m);
    assert.match(go, /CGO_ENABLED=0 go build/);
    const rust = generateDockerfile(service('rs', { type: 'rust' }));
    assert.match(rust, /cargo build --release/);
    assert.match(rust, /^FROM debian:bookworm-slim$/m);
    const stat = generateDockerfile(service('site', { type: 'static', ports: [port(80)] }));
    assert.match(stat, /CMD \["httpd", "-f", "-v", "-p", "80", "-h", "\/www"\]/);
    for (const type of ['java', 'php', 'ruby', 'dotnet'] as const) {
      const text = generateDockerfile(service(type, { type }));
      assert.match(text, /^USER 10001:10001$/m, type);
      assert.match(text, /^CMD /m, type);
    }
    assert.equal(Object.keys(DEFAULT_BASE_IMAGES).length, 13);
  });

  test('deno, elixir, gleam and C++: the runtime image, a numeric user, the port and the program', () => {
    const deno = generateDockerfile(
      service('api', {
        type: 'deno',
        ports: [port(8002)],
        start: { command: 'deno task start', source: 'script', evidence: { file: 'api/deno.jsonc', reason: 'start' } },
      }),
    );
    assert.match(deno, /^FROM denoland\/deno:2\.1\.4$/m);
    assert.match(deno, /^RUN deno install$/m);
    assert.match(deno, /^CMD \["sh","-c","deno task start"\]$/m);
    const shop = service('shop', { type: 'elixir', ports: [port(4100)] });
    const elixir = generateDockerfile(shop, { elixir: 'elixir:1.16' });
    assert.match(elixir, /^FROM elixir:1\.16 AS build$/m);
    assert.match(elixir, /mix release --path \/out/);
    assert.match(elixir, /^ENV LANG=C\.UTF-8 PHX_SERVER=true HOME=\/tmp$/m);
    assert.match(elixir, /^EXPOSE 4100$/m);
    const gleam = generateDockerfile(service('web', { type: 'gleam', ports: [port(8001)] }));
    assert.match(gleam, /gleam export erlang-shipment/);
    assert.match(gleam, /^CMD \["\/app\/entrypoint\.sh", "run"\]$/m);
    const cpp = generateDockerfile(
      service('crow', {
        type: 'cpp',
        ports: [port(18080)],
        indicators: ['crow/CMakeLists.txt'],
        start: {
          command: './build/crow_server',
          source: 'manifest',
          evidence: { file: 'crow/CMakeLists.txt', reason: 'exe' },
        },
      }),
    );
    assert.match(cpp, /cmake -S \. -B build/);
    assert.match(cpp, /^RUN mkdir -p \/out && cp \.\/build\/crow_server \/out\/app$/m);
    assert.match(cpp, /^FROM debian:bookworm-slim$/m);
    for (const text of [deno, elixir, gleam, cpp]) {
      assert.match(text, /^USER 10001:10001$/m);
      assert.ok(!/useradd|adduser/.test(text));
    }
  });

  test('an sbt project is refused with what to do, instead of a Maven build that cannot work', () => {
    const scala = service('play', { type: 'java', language: 'scala' });
    const refusal = /cannot generate a Dockerfile for play: sbt builds.*sbt Docker\/stage/;
    assert.throws(() => generateDockerfile(scala), refusal);
  });

  test('a type without a runtime is refused with a clear message', () => {
    assert.throws(
      () => generateDockerfile(service('db', { type: 'database' })),
      /cannot generate a Dockerfile for db: type 'database'.*add a Dockerfile or set type in kyozo\.yaml/,
    );
  });
});
