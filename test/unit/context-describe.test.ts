// PathWalker on real fixture trees: folder purposes against hand-checked labels (accuracy and the confusion table),
// capabilities per language, relations and deployment of one service, incremental re-description, bad input, and
// the token-budgeted repository map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countTokens } from 'gpt-tokenizer';
import { FolderDescriber, FolderNotFoundError } from '../../server/src/engine/context/folder-describer';
import { FOLDER_PURPOSES, type FolderDescription } from '../../server/src/engine/context/folder-description';
import { readProtoServices } from '../../server/src/engine/context/proto-services';
import { repoMap } from '../../server/src/engine/context/repo-map';

const REPO = join(__dirname, '..', '..');
const FIXTURES = join(REPO, 'test', 'fixtures');
const labels = JSON.parse(readFileSync(join(REPO, 'test', 'support', 'folder-purpose-labels.json'), 'utf8')) as {
  roots: Record<string, Record<string, string>>;
};

const describers = new Map<string, Promise<FolderDescriber>>();
function describer(root: string): Promise<FolderDescriber> {
  let d = describers.get(root);
  if (!d) describers.set(root, (d = FolderDescriber.open(root)));
  return d;
}

async function describeIn(fixture: string, folder: string): Promise<FolderDescription> {
  return (await describer(join(FIXTURES, fixture))).describe(folder, join(FIXTURES, fixture));
}

const names = (d: FolderDescription, kind: string) =>
  d.capabilities.value.filter((c) => c.kind === kind).map((c) => c.name);

test('folder purposes match the hand-checked labels of every fixture and examples/ (accuracy >= 95%)', async () => {
  const confusion = new Map<string, Map<string, number>>();
  const misses: string[] = [];
  let compared = 0;
  let correct = 0;
  for (const [root, expected] of Object.entries(labels.roots)) {
    let all: FolderDescription[];
    try {
      all = await (await describer(join(REPO, root))).describeAll();
    } catch {
      continue; // a fixture removed since the labels were written
    }
    const got = new Map(all.map((d) => [d.folder, d.purpose.value]));
    for (const [folder, want] of Object.entries(expected)) {
      const have = got.get(folder);
      if (have === undefined) continue;
      compared++;
      if (have === want) correct++;
      else misses.push(`${root}/${folder}: expected ${want}, got ${have}`);
      const row = confusion.get(want) ?? confusion.set(want, new Map()).get(want)!;
      row.set(have, (row.get(have) ?? 0) + 1);
    }
  }
  const used = FOLDER_PURPOSES.filter((p) => confusion.has(p) || [...confusion.values()].some((r) => r.has(p)));
  const abbrev = (p: string) => p.slice(0, 6);
  const lines = [`expected \\ got  ${used.map((p) => abbrev(p).padStart(6)).join(' ')}`];
  for (const want of used) {
    const row = confusion.get(want);
    lines.push(`${want.padEnd(15)} ${used.map((p) => String(row?.get(p) ?? '.').padStart(6)).join(' ')}`);
  }
  const accuracy = correct / compared;
  console.log(`${lines.join('\n')}\npurpose accuracy ${(accuracy * 100).toFixed(1)}% on ${compared} labelled folders`);
  if (misses.length) console.log(misses.join('\n'));
  assert.ok(compared >= 200, `only ${compared} labelled folders were compared`);
  assert.ok(accuracy >= 0.95, `purpose accuracy ${(accuracy * 100).toFixed(1)}% is under 95%:\n${misses.join('\n')}`);
});

test('real-world layout: src/<service>, protos, genproto, manifests, helm-chart, docs/img, tests', async () => {
  const expected: Record<string, string> = {
    '.': 'workspace-root',
    src: 'workspace-root',
    'src/frontend': 'service',
    'src/frontend/genproto': 'generated',
    'src/checkout/genproto': 'generated',
    'src/checkout/tests': 'tests',
    protos: 'api-definitions',
    api: 'api-definitions',
    'kubernetes-manifests': 'infrastructure',
    'helm-chart': 'infrastructure',
    'helm-chart/templates': 'infrastructure',
    terraform: 'infrastructure',
    docs: 'docs',
    'docs/img': 'assets',
    '.github/workflows': 'ci',
    hack: 'scripts',
    'src/cartservice/migrations': 'data',
    'libs/money': 'library',
    'libs/money/src': 'module',
    'src/frontend/templates': 'assets',
    examples: 'examples',
    config: 'config',
    'tests/load': 'tests',
  };
  for (const [folder, purpose] of Object.entries(expected)) {
    const d = await describeIn('platform-layout', folder);
    assert.equal(d.purpose.value, purpose, `${folder}: ${JSON.stringify(d.purpose)}`);
    assert.ok(
      d.purpose.evidence.length > 0 && d.purpose.evidence.every((e) => e.file && e.reason),
      `${folder} has evidence`,
    );
    assert.ok(d.purpose.confidence > 0 && d.purpose.confidence <= 1);
  }
});

test('HTTP routes are found per language and framework', async () => {
  const cases: [string, string, string[]][] = [
    ['node-apis', 'express-api', ['GET /health', 'GET /todos']],
    ['node-apis', 'fastify-api', ['GET /ping', 'GET /items/:id']],
    ['node-apis', 'koa-api', ['GET /status', 'GET /greeting']],
    ['python-services', 'flask-app', ['ANY /health', 'ANY /notes']],
    ['python-services', 'uv-api', ['GET /readyz', 'GET /flags/{name}']],
    ['go-services', 'inventory', ['GET /stock/:sku']],
    ['rust-workspace', 'services/payments', ['GET /healthz', 'POST /charges']],
    ['java-spring', 'orders', ['GET /orders']],
    ['polyglot-runtimes', 'ktor-api', ['GET /health', 'GET /orders/{id}']],
    ['ruby-apps', 'webhooks', ['GET /health', 'POST /hooks/github']],
    ['ruby-apps', 'storefront', ['GET /up']],
    ['php-dotnet', 'Reports.Api', ['GET /healthz', 'GET /reports/{id:int}']],
    ['php-dotnet', 'billing', ['GET /health', 'GET /invoices']],
    ['platform-layout', 'src/frontend', ['ANY /', 'ANY /cart', 'ANY /_healthz']],
  ];
  for (const [fixture, folder, routes] of cases) {
    const d = await describeIn(fixture, folder);
    const found = names(d, 'http-route');
    for (const r of routes) assert.ok(found.includes(r), `${fixture}/${folder}: ${r} not in ${found.join(', ')}`);
    const route = d.capabilities.value.find((c) => c.kind === 'http-route')!;
    assert.ok(
      route.evidence.file.startsWith(folder) && route.evidence.line! > 0,
      `${fixture}/${folder} route evidence ${JSON.stringify(route.evidence)}`,
    );
  }
});

test('gRPC services and methods come from server registrations and the .proto files, per language', async () => {
  const cases: [string, string, string, string[]][] = [
    [
      'src/shippingservice',
      'Go',
      'ShippingService',
      ['hipstershop.ShippingService/GetQuote', 'hipstershop.ShippingService/ShipOrder'],
    ],
    ['src/emailservice', 'Python', 'EmailService', ['hipstershop.EmailService/SendOrderConfirmation']],
    ['src/currencyservice', 'JavaScript', 'CurrencyService', ['hipstershop.CurrencyService/Convert']],
    ['src/adservice', 'Java', 'AdService', ['hipstershop.AdService/GetAds']],
    [
      'src/cartservice/src',
      'C#',
      'CartService',
      ['hipstershop.CartService/AddItem', 'hipstershop.CartService/GetCart'],
    ],
  ];
  for (const [folder, language, server, methods] of cases) {
    const d = await describeIn('grpc-microservices', folder);
    assert.ok(
      names(d, 'grpc-server').includes(server),
      `${folder} (${language}) serves ${server}: ${names(d, 'grpc-server')}`,
    );
    for (const m of methods)
      assert.ok(names(d, 'grpc-method').includes(m), `${folder}: ${m} in ${names(d, 'grpc-method')}`);
    const method = d.capabilities.value.find((c) => c.kind === 'grpc-method')!;
    assert.equal(method.evidence.file, 'protos/demo.proto');
    assert.ok(d.summary.value.includes('gRPC'), d.summary.value);
  }
  const protos = await describeIn('grpc-microservices', 'protos');
  assert.equal(protos.purpose.value, 'api-definitions');
  assert.ok(names(protos, 'grpc-method').includes('hipstershop.CheckoutService/PlaceOrder'));
});

test('queues, scheduled jobs (code and CronJob) and library exports are capabilities', async () => {
  const notifier = await describeIn('platform-layout', 'src/notifier');
  assert.deepEqual(names(notifier, 'queue-consume'), ['orders.placed']);
  assert.deepEqual(names(notifier, 'scheduled-job'), ['0 8 * * *']);
  const manifests = await describeIn('platform-layout', 'kubernetes-manifests');
  assert.deepEqual(names(manifests, 'scheduled-job'), ['30 2 * * *']);
  const money = await describeIn('platform-layout', 'libs/money');
  assert.ok(names(money, 'library-export').includes('format'));
  assert.ok(
    money.usedBy.value.some((l) => l.service === 'notifier'),
    JSON.stringify(money.usedBy.value),
  );
  const api = await describeIn('broker-queues', 'api');
  assert.ok(names(api, 'queue-produce').includes('user-signups'), names(api, 'queue-produce').join(', '));
});

test('a service description: stack, env names, relations, tests, deployment, related folders and hints', async () => {
  const cart = await describeIn('platform-layout', 'src/cartservice');
  assert.equal(cart.purpose.value, 'service');
  assert.equal(cart.service, 'cartservice');
  assert.ok(
    cart.stack.value.languages[0] === 'Go' && cart.stack.value.runtimes.includes('go 1.22'),
    JSON.stringify(cart.stack.value),
  );
  assert.ok(cart.envRead.value.includes('REDIS_ADDR'), cart.envRead.value.join(', '));
  const users = cart.usedBy.value.map((l) => l.service).sort();
  assert.deepEqual([...new Set(users)], ['checkout', 'frontend']);
  assert.ok(cart.usedBy.value.every((l) => l.evidence.length > 0));
  assert.ok(
    cart.testedBy.value.some((t) => t.folder === 'src/cartservice' && t.evidence[0].file.endsWith('cart_test.go')),
  );
  const deployment = cart.deployment.value.map((d) => `${d.kind} ${d.file}`);
  assert.ok(deployment.includes('dockerfile src/cartservice/Dockerfile'), deployment.join(', '));
  assert.ok(deployment.includes('kubernetes kubernetes-manifests/cartservice.yaml'), deployment.join(', '));
  assert.ok(
    cart.related.value.some((r) => r.folder === 'protos'),
    JSON.stringify(cart.related.value),
  );
  assert.ok(cart.related.value[0].score >= cart.related.value.at(-1)!.score);
  assert.ok(
    cart.suggestions.value.some((s) => s.includes('protos/demo.proto')),
    cart.suggestions.value.join(' | '),
  );
  assert.match(cart.summary.value, /^gRPC service \(CartService\) in .*called by/);
  const checkout = await describeIn('platform-layout', 'src/checkout');
  assert.ok(
    checkout.deployment.value.some((d) => d.kind === 'helm' && d.file === 'helm-chart/templates/checkout.yaml'),
  );
  assert.ok(checkout.testedBy.value.some((t) => t.folder === 'src/checkout/tests'));
  const tests = await describeIn('platform-layout', 'src/checkout/tests');
  assert.deepEqual(
    tests.testsFor.value.map((l) => l.folder),
    ['src/checkout'],
  );
});

test('bad folders get an error that names the input and what to pass', async () => {
  const d = await describer(join(FIXTURES, 'platform-layout'));
  await assert.rejects(
    () => d.describe('no/such/folder'),
    (err: Error) => err instanceof FolderNotFoundError && /no\/such\/folder.*pass an existing folder/.test(err.message),
  );
  await assert.rejects(
    () => d.describe('/'),
    (err: Error) => err instanceof FolderNotFoundError && /outside the workspace/.test(err.message),
  );
  await assert.rejects(
    () => d.describe(''),
    (err: Error) => err instanceof FolderNotFoundError && /No folder given/.test(err.message),
  );
  await assert.rejects(() => d.describe('README.md'), FolderNotFoundError);
});

test('an edit re-describes only the folders whose inputs changed', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kyozo-describe-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  cpSync(join(FIXTURES, 'platform-layout'), root, { recursive: true });
  const d = await FolderDescriber.open(root);
  const before = await d.describeAll();
  const total = before.length;
  const file = join(root, 'src/notifier/src/index.js');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      "await consumer.subscribe({ topic: 'orders.placed' });",
      "await consumer.subscribe({ topic: 'orders.placed' });\n" +
        "  await consumer.subscribe({ topic: 'orders.refunded' });",
    ),
  );
  const first = await d.update([file]);
  assert.ok(
    first.redescribed.includes('src/notifier/src') && first.redescribed.includes('src/notifier'),
    first.redescribed.join(', '),
  );
  assert.ok(
    !first.redescribed.includes('src/frontend') && !first.redescribed.includes('protos'),
    first.redescribed.join(', '),
  );
  assert.ok(first.redescribed.length < total / 4, `${first.redescribed.length} of ${total} re-described`);
  assert.deepEqual(names(await d.describe('src/notifier', root), 'queue-consume'), [
    'orders.placed',
    'orders.refunded',
  ]);

  mkdirSync(join(root, 'docs', 'adr'));
  writeFileSync(join(root, 'docs', 'adr', '0001-grpc.md'), '# Use gRPC between services\n');
  const second = await d.update([join(root, 'docs', 'adr', '0001-grpc.md')]);
  assert.ok(second.redescribed.includes('docs/adr'), second.redescribed.join(', '));
  assert.ok(
    second.redescribed.every((f) => f === 'docs' || f.startsWith('docs/')),
    `docs only: ${second.redescribed.join(', ')}`,
  );
  assert.equal((await d.describe('docs/adr', root)).purpose.value, 'docs');

  const third = await d.update([join(root, 'src/frontend/handlers.go')]); // touched, unchanged
  assert.deepEqual(
    third.redescribed.filter((f) => f !== 'src/frontend'),
    [],
  );
});

test('the repository map names all 200 services within 4,000 tokens, counted by a real tokenizer', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kyozo-map-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const domains = ['catalog', 'checkout', 'identity', 'search', 'shipping', 'billing', 'analytics', 'platform'];
  for (let i = 0; i < 200; i++) {
    const dir = join(root, 'services', domains[i % domains.length], `svc-${String(i).padStart(3, '0')}`);
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: `svc-${i}`,
        scripts: { start: 'node src/index.js' },
        dependencies: { express: '^4.19.2' },
      }),
    );
    writeFileSync(
      join(dir, 'src', 'index.js'),
      `const express = require('express');\nconst app = express();\n` +
        `app.get('/items/${i}', (_q, r) => r.send('ok'));\napp.listen(${3000 + i});\n`,
    );
  }
  const d = await FolderDescriber.open(root);
  const topology = d.topology();
  assert.equal(topology.services.length, 200);
  const map = repoMap(topology, await d.describeAll(), { budgetTokens: 4000 });
  assert.ok(map.tokens <= 4000, `${map.tokens} tokens`);
  assert.equal(map.tokens, countTokens(map.text));
  for (const s of topology.services)
    assert.ok(new RegExp(`\\b${s.name}\\b`).test(map.text), `${s.name} missing from the map`);
  const small = repoMap(topology, await d.describeAll(), { budgetTokens: 1500 });
  for (const s of topology.services) assert.ok(small.text.includes(s.name), `${s.name} dropped at a small budget`);
  assert.throws(() => repoMap(topology, [], { budgetTokens: -5 }), /budgetTokens must be a positive number/);
});

test('the repository map of examples/shop ranks services first and then the other folders', async () => {
  const d = await describer(join(REPO, 'examples', 'shop'));
  const map = repoMap(d.topology(), await d.describeAll(), { budgetTokens: 4000 });
  const services = map.text.indexOf('## Service details');
  const others = map.text.indexOf('## Other folders');
  assert.ok(services > 0 && others > services, map.text);
  assert.match(map.text, /packages\/shared\/ library/);
  assert.equal(map.folders.omitted, 0);
  assert.match(map.text, /^# shop: 8 services, 1 library, 14 folders\n/, map.text);
  // One sentence a person would write: what, in which language and framework, where it listens, who it talks to.
  assert.match(
    map.text,
    /- orders \(orders\) HTTP service in Go \(chi\) with 2 routes, on port 8080; calls db; called by api/,
    map.text,
  );
  assert.match(map.text, /api\/src\/ module: JavaScript code of the service api defining 3 HTTP routes/, map.text);
});

test('.proto services: packages, comments, streaming and nested options', () => {
  const services = readProtoServices(
    [
      'syntax = "proto3";',
      'package shop.v1;',
      '// service Ghost { rpc Nope(A) returns (B); }',
      'service Orders {',
      '  rpc Place(PlaceRequest) returns (PlaceReply) { option (google.api.http) = { post: "/v1/orders" }; }',
      '  /* rpc Hidden(A) returns (B); */',
      '  rpc Watch(WatchRequest) returns (stream Order);',
      '}',
    ].join('\n'),
  );
  assert.equal(services.length, 1);
  assert.equal(services[0].fullName, 'shop.v1.Orders');
  assert.deepEqual(
    services[0].methods.map((m) => [m.name, m.streaming, m.line]),
    [
      ['Place', false, 5],
      ['Watch', true, 7],
    ],
  );
});
