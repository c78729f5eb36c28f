// Dependencies only the code names: address variables read through wrappers, gRPC clients and servers of one proto,
// queues and topics two services share, generic folder names. Each fixture has no compose file or manifest, so every
// edge below comes from reading the code; any edge not listed is a false one and fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyze } from '../../server/src/engine';
import { explain } from '../../server/src/engine/context/explain';
import { checkTopology, FIXTURES, type ExpectedEdge, type ExpectedTopology } from '../support/fixture-expect';

const go = 'src/frontend/main.go';
const checkout = 'src/checkoutservice/main.go';
const http = (path: string) => ({ kind: 'http' as const, path });
const code = (container: number) => ({ container, source: 'code' as const });
const dockerfile = (container: number) => ({ container, source: 'dockerfile' as const });
const grpcProbe = { kind: 'grpc' as const };

// Service ids of the gRPC shop.
const frontend = 'src/frontend';
const checkoutSvc = 'src/checkoutservice';
const catalog = 'src/productcatalogservice';
const shipping = 'src/shippingservice';
const currency = 'src/currencyservice';
const payment = 'src/paymentservice';
const email = 'src/emailservice';
const recommendation = 'src/recommendationservice';
const cart = 'src/cartservice/src';
const ad = 'src/adservice';
const accounting = 'src/accountingservice';

export const expected: Record<string, ExpectedTopology> = {
  // A polyglot shop of gRPC services (Go, Node.js, Python, C#, Java) that find each other through *_SERVICE_ADDR.
  'grpc-microservices': {
    services: {
      [frontend]: {
        type: 'golang',
        name: 'frontend',
        port: { container: 8080, source: 'dockerfile', file: 'src/frontend/Dockerfile', line: 10 },
        health: http('/_healthz'),
        dockerfile: 'src/frontend/Dockerfile',
      },
      [checkoutSvc]: {
        type: 'golang',
        name: 'checkoutservice',
        port: { container: 5050, source: 'dockerfile', file: 'src/checkoutservice/Dockerfile', line: 10 },
        health: grpcProbe,
      },
      // the main package lives in server.go, beside another file of package main
      [catalog]: {
        type: 'golang',
        name: 'productcatalogservice',
        port: { ...code(3550), file: 'src/productcatalogservice/server.go', line: 61, envVar: 'PORT' },
        health: grpcProbe,
        dockerfile: null,
      },
      [shipping]: { type: 'golang', name: 'shippingservice', port: dockerfile(50051), health: grpcProbe },
      [currency]: { type: 'nodejs', name: 'currencyservice', port: dockerfile(7000), health: grpcProbe },
      [payment]: {
        type: 'nodejs',
        name: 'paymentservice',
        port: { ...code(50051), file: 'src/paymentservice/index.js', line: 4, envVar: 'PORT' },
        health: grpcProbe,
        dockerfile: null,
      },
      [email]: { type: 'python', name: 'emailservice', port: dockerfile(8080), health: grpcProbe },
      [recommendation]: { type: 'python', name: 'recommendationservice', port: dockerfile(8080), health: grpcProbe },
      // the project sits in a generic src/ folder: the service takes its parent's name
      [cart]: { type: 'dotnet', name: 'cartservice', port: dockerfile(7070), health: grpcProbe },
      // plain grpc-java with Gradle's application plugin (no Spring Boot)
      [ad]: { type: 'java', name: 'adservice', port: dockerfile(9555), health: grpcProbe },
      [accounting]: { type: 'worker', name: 'accountingservice', port: null },
    },
    edges: [
      ...[catalog, currency, cart, recommendation, checkoutSvc, shipping, ad].map((to): ExpectedEdge => [
        frontend,
        to,
        'code-ref',
      ]),
      ...[shipping, catalog, cart, currency, email, payment].map((to): ExpectedEdge => [checkoutSvc, to, 'code-ref']),
      ...[shipping, catalog, cart, currency, email, payment].map((to): ExpectedEdge => [checkoutSvc, to, 'grpc']),
      [checkoutSvc, accounting, 'broker'],
      [recommendation, catalog, 'code-ref'],
      [recommendation, catalog, 'grpc'],
      [payment, currency, 'code-ref'],
      [payment, currency, 'grpc'],
    ],
    edgeEvidence: [
      {
        edge: [frontend, cart, 'code-ref'],
        envVar: 'CART_SERVICE_ADDR',
        evidence: [
          { file: go, line: 74, reasonIncludes: 'CART_SERVICE_ADDR' },
          { file: go, line: 74, reasonIncludes: 'mustMapEnv' },
        ],
      },
      {
        edge: [frontend, catalog, 'code-ref'],
        envVar: 'PRODUCT_CATALOG_SERVICE_ADDR',
        evidence: [{ file: go, line: 72, reasonIncludes: 'PRODUCT_CATALOG_SERVICE_ADDR' }],
      },
      {
        edge: [checkoutSvc, cart, 'grpc'],
        evidence: [
          { file: checkout, line: 156, reasonIncludes: 'CartService' },
          { file: 'src/cartservice/src/Program.cs', line: 38, reasonIncludes: 'CartService' },
        ],
      },
      {
        edge: [checkoutSvc, accounting, 'broker'],
        evidence: [
          { file: checkout, line: 86, reasonIncludes: 'orders' },
          { file: 'src/accountingservice/main.py', line: 28, reasonIncludes: 'orders' },
        ],
      },
      {
        edge: [recommendation, catalog, 'code-ref'],
        envVar: 'PRODUCT_CATALOG_SERVICE_HOST',
        evidence: [{ file: 'src/recommendationservice/recommendation_server.py', line: 44 }],
      },
      {
        edge: [recommendation, catalog, 'grpc'],
        evidence: [
          { file: 'src/recommendationservice/recommendation_server.py', line: 50, reasonIncludes: 'CatalogService' },
          { file: 'src/productcatalogservice/server.go', reasonIncludes: 'ProductCatalogService' },
        ],
      },
      {
        edge: [payment, currency, 'code-ref'],
        envVar: 'CURRENCY_SERVICE_ADDR',
        evidence: [{ file: 'src/paymentservice/server.js', line: 19, reasonIncludes: 'requiredEnv' }],
      },
      {
        edge: [payment, currency, 'grpc'],
        evidence: [
          { file: 'src/paymentservice/server.js', line: 28, reasonIncludes: 'CurrencyService' },
          { file: 'src/currencyservice/server.js', line: 82, reasonIncludes: 'CurrencyService' },
        ],
      },
    ],
    order: [
      [
        'src/accountingservice',
        'src/adservice',
        'src/cartservice/src',
        'src/currencyservice',
        'src/emailservice',
        'src/productcatalogservice',
        'src/shippingservice',
      ],
      ['src/paymentservice', 'src/recommendationservice'],
      ['src/checkoutservice'],
      ['src/frontend'],
    ],
    patterns: ['microservices', 'background-workers'],
    problems: [],
    libraries: ['src/cartservice/tests'],
    recommendations: [
      // the tracing collector is deployed with the manifests, not in this tree
      {
        code: 'unknown-service-address',
        serviceId: 'src/frontend',
        messageIncludes: ['COLLECTOR_SERVICE_ADDR', 'src/frontend/main.go:63'],
      },
    ],
    forbiddenRecommendations: [
      { code: 'no-health-endpoint' },
      { code: 'unknown-service-address', serviceId: 'src/checkoutservice' },
      { code: 'unknown-service-address', serviceId: 'src/recommendationservice' },
      { code: 'unknown-service-address', serviceId: 'src/paymentservice' },
    ],
  },

  // Celery task names, a RabbitMQ queue and a Redis channel tie an API to the three workers that read them. A NATS
  // subject and a dead-letter queue that nothing sends to share a name with one of them, yet link to nothing.
  'broker-queues': {
    services: {
      api: {
        type: 'python',
        frameworks: ['flask'],
        port: { container: 5000, source: 'code', file: 'api/app.py', line: 47 },
        health: { kind: 'http', path: '/healthz' },
      },
      worker: { type: 'worker', frameworks: ['celery'], port: null, start: { includes: 'celery -A tasks worker' } },
      auditor: { type: 'worker', port: null, start: { includes: 'npm start' } },
      notifier: { type: 'worker', port: null },
      mailer: { type: 'worker', port: null },
      reporter: { type: 'worker', port: null },
    },
    edges: [
      ['api', 'worker', 'broker'],
      ['api', 'auditor', 'broker'],
      ['api', 'notifier', 'broker'],
    ],
    edgeEvidence: [
      {
        edge: ['api', 'worker', 'broker'],
        evidence: [
          { file: 'api/app.py', line: 28, reasonIncludes: 'Celery task tasks.resize_image' },
          { file: 'worker/tasks.py', line: 9, reasonIncludes: 'tasks.resize_image' },
        ],
      },
      {
        edge: ['api', 'auditor', 'broker'],
        evidence: [
          { file: 'api/app.py', line: 22, reasonIncludes: 'RabbitMQ queue audit-events' },
          { file: 'auditor/index.js', line: 10, reasonIncludes: 'audit-events' },
        ],
      },
      {
        edge: ['api', 'notifier', 'broker'],
        evidence: [
          { file: 'api/app.py', line: 36, reasonIncludes: 'Redis channel user-signups' },
          { file: 'notifier/main.go', line: 18, reasonIncludes: 'user-signups' },
        ],
      },
    ],
    // a queue orders nothing: everything starts in one wave
    order: [['api', 'auditor', 'mailer', 'notifier', 'reporter', 'worker']],
    patterns: ['background-workers'],
    optionalPatterns: ['monolith'],
    problems: [],
    libraries: [],
    recommendations: [
      { code: 'missing-database', serviceId: 'auditor' },
      { code: 'missing-database', serviceId: 'notifier' },
    ],
  },

  // Address variables that name no service, or several, become recommendations naming the candidates; those that
  // name one (exactly, or but for a -api suffix) are edges; own addresses, stores and outside APIs are neither.
  'unresolved-service-env': {
    services: {
      orders: {
        type: 'python',
        frameworks: ['fastapi'],
        port: { container: 8000, source: 'framework-default' },
        health: http('/health'),
      },
      payments: { type: 'golang', port: code(8082), health: http('/healthz') },
      'payment-gateway': { type: 'nodejs', port: code(8083), health: http('/health') },
      'notify-api': { type: 'nodejs', port: code(8085), health: http('/health') },
      'notify-worker': { type: 'worker', port: null },
      shipping: { type: 'golang', port: code(8081), health: http('/healthz') },
      'inventory-api': { type: 'python', port: code(8086), health: http('/health') },
      'inventory-svc': { type: 'golang', port: code(8084), health: http('/healthz') },
    },
    edges: [
      ['orders', 'shipping', 'code-ref'],
      ['orders', 'notify-api', 'code-ref'],
    ],
    edgeEvidence: [
      {
        edge: ['orders', 'shipping', 'code-ref'],
        envVar: 'SHIPPING_URL',
        evidence: [{ file: 'orders/main.py', line: 10 }],
      },
      {
        edge: ['orders', 'notify-api', 'code-ref'],
        envVar: 'NOTIFY_SVC_HOST',
        evidence: [{ file: 'orders/main.py', line: 13 }],
      },
    ],
    order: [
      ['inventory-api', 'inventory-svc', 'notify-api', 'notify-worker', 'payment-gateway', 'payments', 'shipping'],
      ['orders'],
    ],
    patterns: ['microservices', 'background-workers'],
    problems: [],
    libraries: [],
    recommendations: [
      {
        code: 'unknown-service-address',
        serviceId: 'orders',
        file: 'orders/main.py',
        messageIncludes: ['PAYMENT_SERVICE_ADDR', 'orders/main.py:12', 'candidates: payments, payment-gateway'],
      },
      {
        code: 'unknown-service-address',
        serviceId: 'orders',
        messageIncludes: ['INVENTORY_SERVICE_ADDR', 'orders/main.py:15', 'inventory-api, inventory-svc'],
      },
      // not named *_SERVICE_*, but handed to an HTTP client as its base URL
      {
        code: 'unknown-service-address',
        serviceId: 'orders',
        messageIncludes: ['FRAUD_CHECK_URL', 'no service here has a name like it'],
      },
    ],
    forbiddenRecommendations: [
      { code: 'unknown-service-address', serviceId: 'payments' },
      { code: 'no-health-endpoint' },
    ],
  },

  // Manifests in src/, app/, server/, backend/ folders: each service takes the name of the folder around it.
  'generic-folder-names': {
    services: {
      'catalog/server': {
        type: 'nodejs',
        name: 'catalog',
        port: { container: 4000, source: 'code', envVar: 'PORT' },
        health: http('/health/live'),
      },
      // Rails 7.1's /up
      'admin/backend': { type: 'ruby', name: 'admin', frameworks: ['rails'], health: http('/up') },
      // Spring Boot Actuator serves /actuator/health with no route in the code
      'ledger/backend': { type: 'java', name: 'ledger', frameworks: ['spring-boot'], health: http('/actuator/health') },
      shop: { type: 'nodejs', name: 'shop', port: { ...code(3000), file: 'shop/server.js', line: 14 } },
      // beside its parent's own service, a generic folder keeps both names
      'shop/server': { type: 'golang', name: 'shop-server', port: code(3100) },
      'legacy/app': { type: 'python', name: 'legacy' },
      'legacy/src': { type: 'golang', name: 'legacy-src' },
      // a generic folder at the root keeps its own name
      backend: { type: 'python', name: 'backend' },
    },
    names: ['admin', 'backend', 'catalog', 'ledger', 'legacy', 'legacy-src', 'shop', 'shop-server'],
    edges: [
      ['shop', 'catalog/server', 'code-ref'],
      ['shop', 'ledger/backend', 'code-ref'],
      ['shop/server', 'admin/backend', 'code-ref'],
    ],
    edgeEvidence: [
      {
        edge: ['shop', 'catalog/server', 'code-ref'],
        envVar: 'CATALOG_SERVICE_URL',
        evidence: [{ file: 'shop/server.js', line: 4 }],
      },
      {
        edge: ['shop/server', 'admin/backend', 'code-ref'],
        envVar: 'ADMIN_URL',
        evidence: [{ file: 'shop/server/main.go', line: 12 }],
      },
    ],
    order: [
      ['admin/backend', 'backend', 'catalog/server', 'ledger/backend', 'legacy/app', 'legacy/src'],
      ['shop', 'shop/server'],
    ],
    patterns: ['microservices'],
    problems: [],
    libraries: [],
    forbiddenRecommendations: [{ code: 'no-health-endpoint' }],
  },
};

for (const [name, exp] of Object.entries(expected)) {
  test(`topology of fixture ${name}`, async () => {
    const topo = await analyze(join(FIXTURES, name));
    const mismatches = checkTopology(topo, exp);
    assert.deepEqual(mismatches, [], `fixture ${name}:\n  ${mismatches.join('\n  ')}`);
  });
}

test("kyozo explain names a gRPC health probe and the edges a service's code gives it", async () => {
  const topo = await analyze(join(FIXTURES, 'grpc-microservices'));
  const facts = explain(topo, 'src/cartservice/src', topo.root).facts;
  const health = facts.find((f) => f.field === 'health');
  assert.equal(health?.value, 'gRPC health service on 7070');
  assert.deepEqual(
    health?.evidence.map((e) => [e.file, e.line]),
    [['src/cartservice/src/Program.cs', 39]],
  );
  const checkout = explain(topo, 'src/checkoutservice', topo.root).facts.filter((f) => f.field === 'depends on');
  assert.ok(
    checkout.some((f) => f.value === 'cartservice (grpc)'),
    JSON.stringify(checkout.map((f) => f.value)),
  );
  assert.ok(
    checkout.some((f) => f.value === 'accountingservice (broker)'),
    JSON.stringify(checkout.map((f) => f.value)),
  );
});
