import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { analyze } from '../../server/src/engine/index';
import { exportKubernetes, KubernetesExportError, type KubernetesExport } from '../../server/src/engine/k8s';
import { edge, port, service, topology as makeTopology } from '../support/docker-topology-builder';

const repo = join(import.meta.dirname, '..', '..');
const shop = join(repo, 'examples', 'shop');
const grpc = join(repo, 'test', 'fixtures', 'grpc-microservices');
const scaling = join(repo, 'test', 'fixtures', 'k8s-scaling');

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests are walked by path

type Model = new (data: never) => { validate(): void };

// kubernetes-models (Apache-2.0): one class per kind whose validate() checks an object against the Kubernetes
// OpenAPI schema (types, required fields, enums, formats) without a cluster. The package is ESM-only: import() it.
const MODELS: Record<string, Model> = {};
async function loadModels(): Promise<void> {
  const kinds: [string, string, string][] = [
    ['v1/ConfigMap', 'kubernetes-models/v1/ConfigMap', 'ConfigMap'],
    ['v1/Namespace', 'kubernetes-models/v1/Namespace', 'Namespace'],
    ['v1/Service', 'kubernetes-models/v1/Service', 'Service'],
    ['apps/v1/Deployment', 'kubernetes-models/apps/v1/Deployment', 'Deployment'],
    ['apps/v1/StatefulSet', 'kubernetes-models/apps/v1/StatefulSet', 'StatefulSet'],
    [
      'autoscaling/v2/HorizontalPodAutoscaler',
      'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
      'HorizontalPodAutoscaler',
    ],
    ['networking.k8s.io/v1/Ingress', 'kubernetes-models/networking.k8s.io/v1/Ingress', 'Ingress'],
  ];
  for (const [key, specifier, name] of kinds) MODELS[key] = ((await import(specifier)) as Record<string, Model>)[name]!;
}

const modelsLoaded = loadModels();

/** Every object of every file, parsed back from the YAML text (what kubectl reads), each validated by its model. */
function objects(out: KubernetesExport): Doc[] {
  const all: Doc[] = [];
  for (const f of out.files) {
    if (f.name === 'kustomization.yaml') continue;
    for (const d of parseAllDocuments(f.yaml)) {
      assert.equal(d.errors.length, 0, `${f.name}: ${d.errors[0]?.message}`);
      const doc = d.toJS() as Doc;
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      assert.ok(Model, `${f.name}: unexpected ${doc.apiVersion} ${doc.kind}`);
      assert.doesNotThrow(() => new Model(doc as never).validate(), `${f.name} ${doc.kind}/${doc.metadata?.name}`);
      all.push(doc);
    }
  }
  return all;
}

function find(docs: Doc[], kind: string, name: string): Doc {
  const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(d, `${kind}/${name} missing; have ${docs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return d;
}

function container(docs: Doc[], name: string, kind = 'Deployment'): Doc {
  return find(docs, kind, name).spec.template.spec.containers[0];
}

function envOf(docs: Doc[], name: string, kind = 'Deployment'): Record<string, unknown> {
  const c = container(docs, name, kind);
  const config = docs.find((x) => x.kind === 'ConfigMap' && x.metadata.name === `${name}-config`)?.data ?? {};
  const env: Record<string, unknown> = { ...config };
  for (const e of c.env ?? []) env[e.name] = e.value ?? e.valueFrom;
  return env;
}

function assertHardened(docs: Doc[]): void {
  for (const d of docs.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, d.metadata.name);
    assert.equal(pod.securityContext.runAsUser, 10001);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(pod.automountServiceAccountToken, false);
    for (const c of pod.containers) {
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, d.metadata.name);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.equal(c.securityContext.runAsNonRoot, true);
      assert.equal(c.securityContext.runAsUser, 10001);
      assert.equal(typeof c.securityContext.readOnlyRootFilesystem, 'boolean');
      assert.ok(c.resources.requests.cpu && c.resources.limits.memory, `${d.metadata.name} has no resources`);
    }
    for (const [k, v] of Object.entries({
      'app.kubernetes.io/name': d.metadata.name,
      'app.kubernetes.io/managed-by': 'kyozo',
    }))
      assert.equal(d.metadata.labels[k], v);
    assert.ok(d.metadata.labels['app.kubernetes.io/part-of']);
  }
}

describe('kyozo k8s: the shop example', async () => {
  await modelsLoaded;
  const topology = await analyze(shop);
  const out = exportKubernetes(topology);
  const docs = objects(out);

  test('one file per service, a kustomization listing them, every object valid', () => {
    assert.deepEqual(
      out.files.map((f) => f.name),
      [
        'api.yaml',
        'cache.yaml',
        'db.yaml',
        'gateway.yaml',
        'orders.yaml',
        'users.yaml',
        'web.yaml',
        'worker.yaml',
        'kustomization.yaml',
      ],
    );
    const kustomization = out.files.at(-1)!.documents[0] as Doc;
    assert.deepEqual(
      kustomization.resources,
      out.files.slice(0, -1).map((f) => f.name),
    );
    assertHardened(docs);
    for (const d of docs) assert.equal(d.metadata.labels['app.kubernetes.io/part-of'], 'shop');
  });

  test('probes come from the detected health: httpGet, exec for a compose healthcheck, tcpSocket otherwise', () => {
    const api = container(docs, 'api');
    assert.deepEqual(api.readinessProbe.httpGet, { path: '/healthz', port: 3000 });
    assert.deepEqual(api.livenessProbe.httpGet, { path: '/healthz', port: 3000 });
    assert.deepEqual(api.startupProbe.httpGet, { path: '/healthz', port: 3000 });
    assert.deepEqual(container(docs, 'users').readinessProbe.httpGet, { path: '/healthz', port: 8000 });
    assert.deepEqual(container(docs, 'db', 'StatefulSet').readinessProbe.exec.command, [
      '/bin/sh',
      '-c',
      'pg_isready -U shop -d shop',
    ]);
    assert.deepEqual(container(docs, 'web').readinessProbe.tcpSocket, { port: 80 });
    assert.equal(container(docs, 'worker').readinessProbe, undefined, 'a worker listens on nothing');
  });

  test('dependency URLs use the Services’ DNS names; the database password comes from its Secret', () => {
    const env = envOf(docs, 'api');
    assert.equal(env.ORDERS_URL, 'http://orders:8080');
    assert.equal(env.USERS_URL, 'http://users:8000');
    assert.equal(env.REDIS_URL, 'redis://cache:6379');
    assert.equal(env.DATABASE_URL, 'postgres://shop:$(KYOZO_DB_PASSWORD)@db:5432/shop');
    assert.deepEqual(env.KYOZO_DB_PASSWORD, { secretKeyRef: { name: 'db-secrets', key: 'POSTGRES_PASSWORD' } });
    assert.equal(env.WORKER_URL, undefined, 'a queue edge has no address and a worker no Service');
    const names = (container(docs, 'api').env as Doc[]).map((e) => e.name);
    assert.ok(names.indexOf('KYOZO_DB_PASSWORD') < names.indexOf('DATABASE_URL'), '$(VAR) must follow VAR');
    assert.deepEqual(envOf(docs, 'db', 'StatefulSet').POSTGRES_PASSWORD, {
      secretKeyRef: { name: 'db-secrets', key: 'POSTGRES_PASSWORD' },
    });
    assert.deepEqual(out.secrets, [{ name: 'db-secrets', keys: ['POSTGRES_PASSWORD'] }]);
  });

  test('databases and caches are StatefulSets with a volume claim; built services use the local image names', () => {
    const db = find(docs, 'StatefulSet', 'db');
    assert.equal(db.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi');
    assert.ok(
      container(docs, 'db', 'StatefulSet').volumeMounts.some((m: Doc) => m.mountPath === '/var/lib/postgresql/data'),
    );
    assert.equal(envOf(docs, 'db', 'StatefulSet').PGDATA, '/var/lib/postgresql/data/pgdata');
    assert.equal(container(docs, 'cache', 'StatefulSet').image, 'redis:7-alpine');
    assert.equal(container(docs, 'api').image, 'kyozo-shop/api:latest');
    assert.deepEqual(
      find(docs, 'Service', 'db').spec.ports.map((p: Doc) => p.port),
      [5432],
    );
  });

  test('the gateway of the api-gateway pattern gets the Ingress, nothing else does', () => {
    const ingresses = docs.filter((d) => d.kind === 'Ingress');
    assert.deepEqual(
      ingresses.map((d) => d.metadata.name),
      ['gateway'],
    );
    const backend = ingresses[0]!.spec.rules[0].http.paths[0].backend.service;
    assert.deepEqual(backend, { name: 'gateway', port: { name: 'tcp-80' } });
    // Port 80 as a non-root user: the pod lowers the unprivileged port start (a safe sysctl).
    assert.deepEqual(find(docs, 'Deployment', 'gateway').spec.template.spec.securityContext.sysctls, [
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' },
    ]);
    assert.equal(docs.filter((d) => d.kind === 'HorizontalPodAutoscaler').length, 0, 'no kyozo.yaml scaling');
  });

  test('the output is the same on every run', async () => {
    const again = exportKubernetes(await analyze(shop));
    assert.deepEqual(
      again.files.map((f) => f.yaml),
      out.files.map((f) => f.yaml),
    );
  });
});

describe('kyozo k8s: a gRPC monorepo', async () => {
  await modelsLoaded;
  const out = exportKubernetes(await analyze(grpc));
  const docs = objects(out);

  test('gRPC services get grpc probes and named grpc ports; the HTTP frontend an httpGet one', () => {
    const checkout = container(docs, 'checkoutservice');
    assert.deepEqual(checkout.readinessProbe.grpc, { port: 5050 });
    assert.deepEqual(checkout.livenessProbe.grpc, { port: 5050 });
    assert.deepEqual(checkout.ports, [{ name: 'grpc-5050', containerPort: 5050, protocol: 'TCP' }]);
    assert.deepEqual(find(docs, 'Service', 'checkoutservice').spec.ports[0].targetPort, 'grpc-5050');
    assert.deepEqual(container(docs, 'frontend').readinessProbe.httpGet, { path: '/_healthz', port: 8080 });
    assertHardened(docs);
    // A Go service in Kyozo's generated image runs on a read-only root file system with a writable /tmp; one built
    // from its own Dockerfile, or an interpreter, keeps a writable root.
    const catalog = container(docs, 'productcatalogservice');
    assert.equal(catalog.securityContext.readOnlyRootFilesystem, true);
    assert.ok(catalog.volumeMounts.some((m: Doc) => m.mountPath === '/tmp'));
    assert.equal(checkout.securityContext.readOnlyRootFilesystem, false);
    assert.equal(container(docs, 'currencyservice').securityContext.readOnlyRootFilesystem, false);
  });

  test('address variables a gRPC client reads hold host:port of the Service', () => {
    const env = envOf(docs, 'checkoutservice');
    assert.equal(env.CART_SERVICE_ADDR, 'cartservice:7070');
    assert.equal(env.PAYMENT_SERVICE_ADDR, 'paymentservice:50051');
    assert.equal(envOf(docs, 'frontend').AD_SERVICE_ADDR, 'adservice:9555');
    const accounting = find(docs, 'Deployment', 'accountingservice');
    assert.equal(accounting.spec.template.spec.containers[0].readinessProbe, undefined);
    assert.ok(!docs.some((d) => d.kind === 'Service' && d.metadata.name === 'accountingservice'));
  });
});

describe('kyozo k8s: kyozo.yaml scaling and planted secrets', async () => {
  await modelsLoaded;
  const topology = await analyze(scaling);
  const out = exportKubernetes(topology, {
    registry: 'registry.example.com/team/',
    tag: 'v1.2.0',
    namespace: 'shop-prod',
  });
  const docs = objects(out);

  test('scaling becomes an autoscaling/v2 HPA on CPU; the Deployment starts at min replicas', () => {
    assert.deepEqual(topology.services.find((s) => s.name === 'api')?.scaling, {
      min: 2,
      max: 6,
      targetCpu: 60,
      cooldownSeconds: 45,
    });
    const hpa = find(docs, 'HorizontalPodAutoscaler', 'api');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    assert.equal(hpa.spec.minReplicas, 2);
    assert.equal(hpa.spec.maxReplicas, 6);
    assert.deepEqual(hpa.spec.metrics[0].resource, {
      name: 'cpu',
      target: { type: 'Utilization', averageUtilization: 60 },
    });
    assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 45);
    assert.equal(find(docs, 'Deployment', 'api').spec.replicas, 2);
    assert.equal(docs.filter((d) => d.kind === 'HorizontalPodAutoscaler').length, 1);
    assert.deepEqual(container(docs, 'api').resources, {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '250m', memory: '256Mi' },
    });
  });

  test('no secret value reaches any file; secret-looking variables are secretKeyRefs', () => {
    for (const f of out.files) {
      assert.ok(!f.yaml.includes('sk_live_planted4242doNotLeak'), `${f.name} holds the .env secret`);
      assert.ok(!f.yaml.includes('planted-db-password-77'), `${f.name} holds the compose password`);
    }
    const env = envOf(docs, 'api');
    assert.deepEqual(env.STRIPE_SECRET_KEY, { secretKeyRef: { name: 'api-secrets', key: 'STRIPE_SECRET_KEY' } });
    assert.equal(env.FEATURE_FLAGS, 'search,checkout');
    assert.equal(env.LOG_LEVEL, 'debug');
    assert.equal(env.DATABASE_URL, 'postgres://app:$(KYOZO_DB_PASSWORD)@db:5432/app');
    assert.deepEqual(out.secrets, [
      { name: 'api-secrets', keys: ['STRIPE_SECRET_KEY'] },
      { name: 'db-secrets', keys: ['POSTGRES_PASSWORD'] },
    ]);
  });

  test('the frontend of a frontend-backend pair gets the Ingress; registry, tag and namespace apply everywhere', () => {
    assert.deepEqual(
      docs.filter((d) => d.kind === 'Ingress').map((d) => d.metadata.name),
      ['web'],
    );
    assert.equal(container(docs, 'api').image, 'registry.example.com/team/kyozo-k8s-scaling/api:v1.2.0');
    assert.equal(container(docs, 'db', 'StatefulSet').image, 'postgres:16-alpine');
    for (const d of docs) if (d.kind !== 'Namespace') assert.equal(d.metadata.namespace, 'shop-prod');
    const kustomization = out.files.at(-1)!.documents[0] as Doc;
    assert.equal(kustomization.namespace, 'shop-prod');
    assert.equal(kustomization.resources[0], 'namespace.yaml');
    assert.equal(find(docs, 'Namespace', 'shop-prod').metadata.labels['app.kubernetes.io/managed-by'], 'kyozo');
  });

  test('bad options and an empty topology get clear errors', () => {
    assert.throws(() => exportKubernetes(topology, { namespace: 'Shop_Prod' }), /--namespace must be a DNS label/);
    assert.throws(() => exportKubernetes(topology, { tag: 'v1:2' }), /--tag must be a Docker tag/);
    assert.throws(() => exportKubernetes(topology, { registry: 'https://x' }), /--registry expects a prefix/);
    assert.throws(
      () => exportKubernetes({ ...topology, services: [], edges: [], patterns: [] }),
      (e: unknown) => e instanceof KubernetesExportError && /no services found/.test(e.message),
    );
  });
});

describe('kyozo k8s: names Kubernetes would refuse', async () => {
  await modelsLoaded;
  test('a service whose name starts with a digit is served as svc-<name>, and its clients use that name', () => {
    const t = makeTopology(
      '/nowhere/My_Shop_',
      'My_Shop_',
      [service('2048-game', { ports: [port(8080)] }), service('api', { ports: [port(3000)], env: [] })],
      [edge('api', '2048-game', { envVar: 'GAME_URL' })],
    );
    const docs = objects(exportKubernetes(t));
    assert.equal(find(docs, 'Service', 'svc-2048-game').spec.ports[0].port, 8080);
    assert.equal(envOf(docs, 'api').GAME_URL, 'http://svc-2048-game:8080');
    // A label value may not end with '_'.
    assert.equal(find(docs, 'Deployment', 'api').metadata.labels['app.kubernetes.io/part-of'], 'my_shop');
  });
});

describe('kyozo k8s: other data images, URLs with passwords, volumes', async () => {
  await modelsLoaded;
  const evidence = { file: 'test', reason: 'built by the test' };
  const t = makeTopology(
    '/nowhere/mixed',
    'mixed',
    [
      service('compose.yaml#mysql', { type: 'database', image: 'mysql:8', ports: [port(3306)] }),
      service('compose.yaml#mongo', { type: 'database', image: 'mongo:7', ports: [port(27017)] }),
      service('app', {
        ports: [port(8080), port(5353, { protocol: 'udp' })],
        env: [
          { name: 'UPSTREAM_URL', value: 'https://bot:hunter2hunter2@partner.example.com/v1', secret: false, evidence },
          { name: 'GITHUB_TOKEN', value: 'ghp_plantedtoken0000', secret: true, evidence },
        ],
        volumes: [
          { source: './config', target: '/etc/app', evidence },
          { source: 'cache', target: '/var/cache/app', evidence },
        ],
      }),
    ],
    [edge('app', 'compose.yaml#mysql'), edge('app', 'compose.yaml#mongo', { envVar: 'MONGO_URL' })],
  );
  const out = exportKubernetes(t);
  const docs = objects(out);

  test('MySQL and MongoDB clients get URLs whose password comes from the database Secret', () => {
    const env = envOf(docs, 'app');
    assert.equal(env.MYSQL_URL, 'mysql://kyozo:$(KYOZO_MYSQL_PASSWORD)@mysql:3306/mysql');
    assert.equal(env.DATABASE_URL, env.MYSQL_URL, 'the first data dependency gives DATABASE_URL');
    assert.equal(env.MONGO_URL, 'mongodb://kyozo:$(KYOZO_MONGO_PASSWORD)@mongo:27017/mongo?authSource=admin');
    assert.deepEqual(env.KYOZO_MYSQL_PASSWORD, { secretKeyRef: { name: 'mysql-secrets', key: 'MYSQL_PASSWORD' } });
    const mysql = envOf(docs, 'mysql', 'StatefulSet');
    assert.equal(mysql.MYSQL_RANDOM_ROOT_PASSWORD, 'yes');
    assert.deepEqual(mysql.MYSQL_PASSWORD, { secretKeyRef: { name: 'mysql-secrets', key: 'MYSQL_PASSWORD' } });
    assert.deepEqual(envOf(docs, 'mongo', 'StatefulSet').MONGO_INITDB_ROOT_PASSWORD, {
      secretKeyRef: { name: 'mongo-secrets', key: 'MONGO_INITDB_ROOT_PASSWORD' },
    });
  });

  test('a URL with a password outside the topology and a secret-looking name are Secret references', () => {
    const env = envOf(docs, 'app');
    assert.deepEqual(env.UPSTREAM_URL, { secretKeyRef: { name: 'app-secrets', key: 'UPSTREAM_URL' } });
    assert.deepEqual(env.GITHUB_TOKEN, { secretKeyRef: { name: 'app-secrets', key: 'GITHUB_TOKEN' } });
    for (const f of out.files) {
      assert.ok(!f.yaml.includes('hunter2hunter2'), f.name);
      assert.ok(!f.yaml.includes('ghp_plantedtoken0000'), f.name);
    }
    assert.deepEqual(
      out.secrets.find((x) => x.name === 'app-secrets'),
      { name: 'app-secrets', keys: ['GITHUB_TOKEN', 'UPSTREAM_URL'] },
    );
  });

  test('a bind mount is left out and a named volume is an emptyDir, each with a note; a UDP port keeps its protocol', () => {
    const app = container(docs, 'app');
    assert.deepEqual(
      app.volumeMounts.map((m: Doc) => m.mountPath),
      ['/tmp', '/var/cache/app'],
    );
    assert.equal(out.notes.length, 2);
    assert.match(out.notes[0]!, /app: the bind mount \.\/config:\/etc\/app is left out/);
    assert.match(out.notes[1]!, /app: the volume cache is an emptyDir/);
    assert.deepEqual(
      find(docs, 'Service', 'app').spec.ports.map((p: Doc) => [p.name, p.protocol]),
      [
        ['tcp-8080', 'TCP'],
        ['udp-5353', 'UDP'],
      ],
    );
  });
});

describe('kyozo.yaml scaling', () => {
  test('an out-of-range target and min above max are reported on the kyozo.yaml line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyozo-k8s-scaling-'));
    try {
      for (const [name, yaml] of [
        ['bad', 'port: 3000\nstart: node server.js\nscaling: { max: 3, target_cpu: 150 }\n'],
        ['inverted', 'port: 3001\nstart: node server.js\nscaling: { min: 4, max: 2 }\n'],
      ] as const) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'kyozo.yaml'), yaml);
        writeFileSync(join(dir, name, 'server.js'), 'require("http").createServer().listen(3000);\n');
      }
      const t = await analyze(dir);
      const bad = t.problems.find((p) => p.file === 'bad/kyozo.yaml');
      assert.equal(bad?.code, 'kyozo-yaml-invalid');
      assert.match(bad!.message, /scaling/);
      assert.equal(bad!.line, 3);
      const inverted = t.problems.find((p) => p.file === 'inverted/kyozo.yaml');
      assert.match(inverted?.message ?? '', /scaling min \(4\) is above max \(2\)/);
      assert.deepEqual(t.services.find((s) => s.folder === 'inverted')?.scaling, { min: 4, max: 4, targetCpu: 70 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
