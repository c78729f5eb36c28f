// Expected topologies of the runtimes added after the first ecosystems (Elixir, Gleam, Deno, C/C++, Kotlin, Scala,
// Bun, shell entry points) and of programs that listen on nothing: a worker keeps running, a job runs to completion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../server/src/engine';
import type { Topology } from '../../server/src/protocol';
import {
  checkTopology,
  copyFixture,
  FIXTURES,
  type ExpectedService,
  type ExpectedTopology,
} from '../support/fixture-expect';

const runtimes: Record<string, ExpectedService> = {
  // Phoenix: endpoint port from config/runtime.exs (PORT with a default), the /healthz route of the router
  'phoenix-shop': {
    type: 'elixir',
    frameworks: ['phoenix', 'ecto'],
    start: { includes: 'mix phx.server' },
    port: { container: 4100, source: 'config', file: 'phoenix-shop/config/runtime.exs', line: 13, envVar: 'PORT' },
    health: { kind: 'http', path: '/healthz' },
    dockerfile: null,
  },
  // Plug.Cowboy child spec with its port; a mix release is what runs
  'plug-api': {
    type: 'elixir',
    frameworks: ['plug'],
    start: { includes: '_build/prod/rel/plug_api/bin/plug_api start', source: 'manifest' },
    port: { container: 4001, source: 'code', file: 'plug-api/lib/plug_api/application.ex', line: 7 },
    health: { kind: 'http', path: '/health' },
  },
  // an OTP application consuming a RabbitMQ queue, listening on nothing
  'elixir-mailer': { type: 'worker', port: null, start: { includes: 'mix run --no-halt' } },
  'gleam-web': {
    type: 'gleam',
    frameworks: ['wisp', 'mist'],
    start: { includes: 'gleam run' },
    port: { container: 8001, source: 'code', file: 'gleam-web/src/gleam_web.gleam', line: 15 },
    health: { kind: 'http', path: '/health' },
  },
  'deno-api': {
    type: 'deno',
    frameworks: ['hono'],
    start: { includes: 'deno task start', source: 'script' },
    port: { container: 8002, source: 'code', file: 'deno-api/main.ts', line: 11 },
    health: { kind: 'http', path: '/health' },
  },
  'fresh-site': {
    type: 'deno',
    frameworks: ['fresh'],
    start: { includes: 'deno task start', source: 'script' },
    port: { container: 8000, source: 'framework-default' },
    health: null,
  },
  'crow-server': {
    type: 'cpp',
    frameworks: ['crow'],
    start: { includes: './build/crow_server', source: 'manifest' },
    port: { container: 18080, source: 'code', file: 'crow-server/main.cpp', line: 17 },
    health: { kind: 'http', path: '/healthz' },
  },
  'drogon-api': {
    type: 'cpp',
    frameworks: ['drogon'],
    start: { includes: './build/drogon_api' },
    port: { container: 8090, source: 'code', file: 'drogon-api/src/main.cc', line: 12 },
    health: { kind: 'http', path: '/ping' },
  },
  'httplib-meson': {
    type: 'cpp',
    frameworks: ['cpp-httplib'],
    start: { includes: './builddir/inventory' },
    port: { container: 8091, source: 'code', file: 'httplib-meson/src/server.cpp', line: 16 },
    health: { kind: 'http', path: '/status' },
  },
  // a Makefile-built Boost.Beast echo server: no route to probe
  'beast-echo': {
    type: 'cpp',
    frameworks: ['boost-beast'],
    start: { includes: './beast_echo' },
    port: { container: 8092, source: 'code', file: 'beast-echo/main.cpp', line: 11 },
    health: null,
  },
  'ktor-api': {
    type: 'java',
    frameworks: ['ktor'],
    port: { container: 8093, source: 'code', file: 'ktor-api/src/main/kotlin/com/acme/ktor/Application.kt', line: 10 },
    health: { kind: 'http', path: '/health' },
  },
  // Spring Boot written in Kotlin: server.port ${PORT:8094} in application.yml, Actuator's health endpoint
  'spring-kotlin': {
    type: 'java',
    frameworks: ['spring-boot'],
    start: { includes: 'java -jar build/libs/spring-kotlin-0.1.0.jar' },
    port: {
      container: 8094,
      source: 'config',
      file: 'spring-kotlin/src/main/resources/application.yml',
      line: 10,
      envVar: 'PORT',
    },
    health: { kind: 'http', path: '/actuator/health' },
  },
  'play-app': {
    type: 'java',
    frameworks: ['play'],
    start: { includes: 'target/universal/stage/bin/play-app' },
    port: { container: 9000, source: 'framework-default' },
    health: { kind: 'http', path: '/health' },
  },
  'http4s-api': {
    type: 'java',
    frameworks: ['http4s'],
    port: { container: 8095, source: 'code', file: 'http4s-api/src/main/scala/acme/Main.scala', line: 18 },
    health: { kind: 'http', path: '/health' },
  },
  'akka-api': {
    type: 'java',
    frameworks: ['akka-http'],
    port: { container: 8096, source: 'code', file: 'akka-api/src/main/scala/acme/Server.scala', line: 16 },
    health: { kind: 'http', path: '/ready' },
  },
  // Bun runs the "module" entry; Bun.serve's port reads PORT with a default
  'bun-api': {
    type: 'nodejs',
    start: { includes: 'bun run index.ts' },
    packageManager: 'bun',
    port: { container: 3100, source: 'code', file: 'bun-api/index.ts', line: 2, envVar: 'PORT' },
    health: { kind: 'http', path: '/health' },
  },
  // start.sh execs gunicorn on its own port: that is the process the image runs
  'shell-app': {
    type: 'python',
    frameworks: ['flask'],
    start: { includes: 'sh start.sh', source: 'script' },
    port: { container: 8098, source: 'script', file: 'shell-app/start.sh', line: 5 },
    health: { kind: 'http', path: '/ping' },
  },
  'compose.yaml#postgres': { type: 'database', port: { container: 5432, source: 'image-default' } },
  'compose.yaml#redis': { type: 'cache', port: { container: 6379, source: 'image-default' } },
  'compose.yaml#rabbitmq': { type: 'queue', port: { container: 5672, source: 'image-default' } },
};

export const expected: Record<string, ExpectedTopology> = {
  'polyglot-runtimes': {
    services: runtimes,
    edges: [
      ['phoenix-shop', 'compose.yaml#postgres', 'driver'],
      ['plug-api', 'compose.yaml#redis', 'driver'],
      ['elixir-mailer', 'compose.yaml#rabbitmq', 'driver'],
      ['ktor-api', 'compose.yaml#postgres', 'driver'],
      ['play-app', 'compose.yaml#postgres', 'driver'],
      ['spring-kotlin', 'compose.yaml#postgres', 'driver'],
    ],
    edgeEvidence: [
      {
        edge: ['phoenix-shop', 'compose.yaml#postgres', 'driver'],
        evidence: [{ file: 'phoenix-shop/mix.exs', line: 27, reasonIncludes: 'postgrex' }],
      },
      {
        edge: ['plug-api', 'compose.yaml#redis', 'driver'],
        evidence: [{ file: 'plug-api/mix.exs', line: 16, reasonIncludes: 'redix' }],
      },
      {
        edge: ['elixir-mailer', 'compose.yaml#rabbitmq', 'driver'],
        evidence: [{ file: 'elixir-mailer/mix.exs', line: 13, reasonIncludes: 'amqp' }],
      },
    ],
    order: [
      [
        'akka-api',
        'beast-echo',
        'bun-api',
        'compose.yaml#postgres',
        'compose.yaml#rabbitmq',
        'compose.yaml#redis',
        'crow-server',
        'deno-api',
        'drogon-api',
        'fresh-site',
        'gleam-web',
        'http4s-api',
        'httplib-meson',
        'shell-app',
      ],
      ['elixir-mailer', 'ktor-api', 'phoenix-shop', 'play-app', 'plug-api', 'spring-kotlin'],
    ],
    patterns: ['microservices', 'database', 'cache', 'background-workers'],
    problems: [],
    libraries: [],
    recommendations: [
      { code: 'no-health-endpoint', serviceId: 'beast-echo' },
      { code: 'no-health-endpoint', serviceId: 'fresh-site' },
    ],
  },
  'runnable-programs': {
    services: {
      'go-poller': { type: 'worker', port: null, start: { includes: 'go run' } },
      'go-migrate': { type: 'job', port: null, start: { includes: 'go run' } },
      'rust-cleanup': { type: 'job', port: null, start: { includes: 'cargo run' } },
      'py-digest': { type: 'worker', port: null, start: { includes: 'digest', source: 'manifest' } },
      'py-export': { type: 'job', port: null, start: { includes: 'export-orders', source: 'manifest' } },
      // installDist's start script is named after the project, not after the main class
      'java-batch': { type: 'job', port: null, start: { includes: 'build/install/java-batch/bin/java-batch' } },
      // the shaded jar carries the main class and the Kafka client
      'java-indexer': { type: 'worker', port: null, start: { includes: 'java -jar target/java-indexer-2.1.0.jar' } },
      // only the exec plugin names the main class: it runs by class, with the dependencies copy-dependencies copies
      'java-seed': {
        type: 'job',
        port: null,
        start: { includes: "java -cp 'target/classes:target/dependency/*' com.acme.seed.Seed" },
      },
      // settings.gradle.kts renames the project, and with it the start script
      'kotlin-digest': {
        type: 'job',
        port: null,
        start: { includes: 'build/install/weekly-digest/bin/weekly-digest' },
      },
      'node-consumer': { type: 'worker', port: null, start: { includes: 'npm start', source: 'script' } },
      // a package with a "bin" and no start script is a command-line program
      'node-cli': { type: 'job', port: null, start: { includes: 'node bin/prune.js', source: 'manifest' } },
      // a "main" that exports nothing is run for its effect
      'node-heartbeat': { type: 'worker', port: null, start: { includes: 'node heartbeat.js', source: 'manifest' } },
      'c-report': { type: 'job', port: null, start: { includes: './report', source: 'manifest' } },
      'sync-loop': { type: 'worker', port: null, start: { includes: 'sh run.sh', source: 'script' } },
    },
    edges: [],
    order: [
      [
        'c-report',
        'go-migrate',
        'go-poller',
        'java-batch',
        'java-indexer',
        'java-seed',
        'kotlin-digest',
        'node-cli',
        'node-consumer',
        'node-heartbeat',
        'py-digest',
        'py-export',
        'rust-cleanup',
        'sync-loop',
      ],
    ],
    patterns: ['background-workers'],
    problems: [],
    libraries: ['shared-lib'],
    forbiddenRecommendations: [
      { code: 'no-health-endpoint', serviceId: 'go-migrate' },
      { code: 'no-health-endpoint', serviceId: 'go-poller' },
    ],
  },
  // the port is the one of the process Kyozo runs: gunicorn's bind when the app has no app.run(), the script's own
  // uvicorn.run() port when it has one
  'wsgi-servers': {
    services: {
      'flask-gunicorn': {
        type: 'python',
        frameworks: ['flask'],
        start: { includes: 'gunicorn app:app --bind 0.0.0.0:8000' },
        port: { container: 8000, source: 'framework-default', file: 'flask-gunicorn/requirements.txt' },
        health: { kind: 'http', path: '/healthz' },
      },
      'fastapi-script': {
        type: 'python',
        frameworks: ['fastapi'],
        start: { includes: 'python main.py' },
        port: { container: 8111, source: 'code', file: 'fastapi-script/main.py', line: 16, envVar: 'PORT' },
        health: { kind: 'http', path: '/health' },
      },
    },
    edges: [],
    order: [['fastapi-script', 'flask-gunicorn']],
    patterns: [],
    problems: [],
    libraries: [],
    recommendations: [{ code: 'missing-database', serviceId: 'flask-gunicorn' }],
  },
  // a repository that is one index.php run from a scheduler: it reads no request, so the PHP CLI runs it
  'lone-php-job': {
    services: {
      '.': { type: 'job', name: 'lone-php-job', port: null, start: { includes: 'php index.php' } },
    },
    edges: [],
    order: [['.']],
    patterns: [],
    optionalPatterns: ['monolith', 'background-workers'],
    problems: [],
    libraries: [],
    forbiddenRecommendations: [{ code: 'no-health-endpoint', serviceId: '.' }],
  },
  // a repository that is one bot.py and a README
  'lone-bot': {
    services: { '.': { type: 'worker', name: 'lone-bot', port: null, start: { includes: 'python bot.py' } } },
    edges: [],
    order: [['.']],
    patterns: ['background-workers'],
    optionalPatterns: ['monolith'],
    problems: [],
    libraries: [],
  },
};

for (const [name, exp] of Object.entries(expected)) {
  test(`topology of fixture ${name}`, async () => {
    const topo = await analyze(join(FIXTURES, name));
    const mismatches = checkTopology(topo, exp);
    assert.deepEqual(mismatches, [], `fixture ${name}:\n  ${mismatches.join('\n  ')}`);
  });
}

/** The sentence, file and line that say why a program is a worker or a job. */
const kindEvidence: [fixture: string, id: string, file: string, line: number | undefined, says: string][] = [
  ['runnable-programs', 'go-poller', 'go-poller/main.go', 15, 'wakes up on an interval: a worker'],
  ['runnable-programs', 'go-migrate', 'go-migrate/main.go', undefined, 'a job that runs to completion'],
  ['runnable-programs', 'py-digest', 'py-digest/src/digest/cli.py', 14, 'runs a scheduler: a worker'],
  ['runnable-programs', 'py-export', 'py-export/exporter/main.py', undefined, 'a job that runs to completion'],
  ['runnable-programs', 'rust-cleanup', 'rust-cleanup/src/cleanup.rs', undefined, 'a job that runs to completion'],
  ['runnable-programs', 'java-batch', 'java-batch/src/main/java/com/acme/batch/Main.java', 8, 'main returns: a job'],
  ['runnable-programs', 'node-consumer', 'node-consumer/consumer.js', 9, 'consumes messages: a worker'],
  [
    'runnable-programs',
    'java-indexer',
    'java-indexer/src/main/java/com/acme/indexer/Indexer.java',
    18,
    'consumes messages: a worker',
  ],
  ['runnable-programs', 'java-seed', 'java-seed/src/main/java/com/acme/seed/Seed.java', 12, 'main returns: a job'],
  [
    'runnable-programs',
    'kotlin-digest',
    'kotlin-digest/src/main/kotlin/com/acme/digest/Main.kt',
    9,
    'main returns: a job',
  ],
  ['runnable-programs', 'node-cli', 'node-cli/package.json', 5, '"bin" runs bin/prune.js: a program'],
  ['runnable-programs', 'node-cli', 'node-cli/bin/prune.js', undefined, 'a job that runs to completion'],
  ['runnable-programs', 'node-heartbeat', 'node-heartbeat/package.json', 5, 'exports nothing: a program'],
  ['runnable-programs', 'node-heartbeat', 'node-heartbeat/heartbeat.js', 14, 'wakes up on an interval: a worker'],
  ['lone-php-job', '.', 'index.php', undefined, 'reads no request: run by the PHP CLI'],
  ['lone-php-job', '.', 'index.php', undefined, 'a job that runs to completion'],
  ['runnable-programs', 'c-report', 'c-report/report.c', 5, 'main() returns: a job'],
  ['runnable-programs', 'sync-loop', 'sync-loop/run.sh', 4, 'loops forever: a worker'],
  ['polyglot-runtimes', 'elixir-mailer', 'elixir-mailer/mix.exs', 9, 'tree of ElixirMailer.Application: a worker'],
  ['lone-bot', '.', 'bot.py', 17, 'keeps a bot connected: a worker'],
];

test('every worker and job says why it is one, with the file and line', async () => {
  const topologies = new Map<string, Topology>();
  const misses: string[] = [];
  for (const [fixture, id, file, line, says] of kindEvidence) {
    if (!topologies.has(fixture)) topologies.set(fixture, await analyze(join(FIXTURES, fixture)));
    const svc = topologies.get(fixture)!.services.find((s) => s.id === id);
    const hit = svc?.evidence.find((e) => e.file === file && e.reason.includes(says) && (line ?? e.line) === e.line);
    if (!hit) misses.push(`${fixture} ${id}: no ${file}:${line ?? '*'} "${says}" in ${JSON.stringify(svc?.evidence)}`);
  }
  assert.deepEqual(misses, []);
});

test('a JVM service starts the jar its build produces, named as the build names it', async () => {
  const cases: [fixture: string, id: string, command: string][] = [
    ['java-spring', 'billing', 'java -jar build/libs/billing-0.0.1-SNAPSHOT.jar'],
    ['java-spring', 'orders', 'java -jar target/orders-0.0.1-SNAPSHOT.jar'],
    ['maven-multimodule', 'catalog-service', 'java -jar target/catalog-service-1.0.0.jar'],
    // Ktor's Gradle plugin builds a fat jar named after the project, here the repository's folder
    ['polyglot-runtimes/ktor-api', '.', 'java -jar build/libs/ktor-api-all.jar'],
  ];
  const wrong: string[] = [];
  for (const [fixture, id, command] of cases) {
    const svc = (await analyze(join(FIXTURES, fixture))).services.find((s) => s.id === id);
    if (svc?.start?.command !== command) wrong.push(`${fixture} ${id}: ${svc?.start?.command} (want ${command})`);
  }
  assert.deepEqual(wrong, []);
});

/** Each new ecosystem as a repository of its own: the app at the root, with the same facts as inside the monorepo. */
const singleApps = [
  'phoenix-shop',
  'plug-api',
  'gleam-web',
  'deno-api',
  'fresh-site',
  'crow-server',
  'drogon-api',
  'httplib-meson',
  'beast-echo',
  'ktor-api',
  'spring-kotlin',
  'play-app',
  'http4s-api',
  'akka-api',
  'bun-api',
  'shell-app',
];

for (const app of singleApps) {
  test(`single-app repository ${app}`, async () => {
    const topo = await analyze(join(FIXTURES, 'polyglot-runtimes', app));
    const inner = runtimes[app];
    // Evidence files are relative to the analysed root, here the app's own folder.
    const file = inner.port?.file?.slice(app.length + 1);
    const port = inner.port && file ? { ...inner.port, file } : inner.port;
    const exp: ExpectedTopology = {
      services: { '.': { ...inner, port, name: app } },
      edges: [],
      order: [['.']],
      patterns: [],
      optionalPatterns: ['monolith'],
      problems: [],
      libraries: [],
    };
    const mismatches = checkTopology(topo, exp);
    assert.deepEqual(mismatches, [], `${app} at the root:\n  ${mismatches.join('\n  ')}`);
  });
}

test('a broken gleam.toml or deno.jsonc is a problem naming the file and line, and the rest is analysed', async () => {
  const { dir, cleanup } = copyFixture('polyglot-runtimes');
  try {
    writeFileSync(join(dir, 'gleam-web', 'gleam.toml'), 'name = "gleam_web"\n[dependencies\nwisp = "1"\n');
    writeFileSync(join(dir, 'deno-api', 'deno.jsonc'), '{\n  // tasks\n  "tasks": { "start": "deno run main.ts" \n');
    mkdirSync(join(dir, 'empty-mix'));
    writeFileSync(join(dir, 'empty-mix', 'mix.exs'), '');
    const topo = await analyze(dir);
    const problems = topo.problems.map((p) => `${p.code} ${p.file}:${p.line ?? ''} ${p.message}`);
    const gleam = problems.find((p) => p.startsWith('toml-parse gleam-web/gleam.toml:2'));
    const deno = problems.find((p) => p.startsWith('json-parse deno-api/deno.jsonc'));
    assert.ok(gleam && /fix it/.test(gleam), `no toml-parse problem for gleam.toml in ${JSON.stringify(problems)}`);
    assert.ok(deno && /fix it/.test(deno), `no json-parse problem for deno.jsonc in ${JSON.stringify(problems)}`);
    // An empty mix.exs declares no program: a library, not a crash.
    assert.ok(
      topo.libraries.some((l) => l.id === 'empty-mix'),
      JSON.stringify(topo.libraries),
    );
    assert.ok(topo.services.some((s) => s.id === 'phoenix-shop' && s.ports[0]?.container === 4100));
  } finally {
    cleanup();
  }
});
