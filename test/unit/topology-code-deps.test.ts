// Dependencies only the code names: address variables read through wrappers, gRPC clients and servers of one proto,
// queues and topics two services share, generic folder names. Each fixture has no compose file or manifest, so every
// edge below comes from reading the code; any edge not listed is a false one and fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyze } from '../../server/src/engine';
import { checkTopology, FIXTURES, type ExpectedTopology } from '../support/fixture-expect';

const go = 'src/frontend/main.go';
const checkout = 'src/checkoutservice/main.go';

export const expected: Record<string, ExpectedTopology> = {
  // A polyglot shop of gRPC services (Go, Node.js, Python, C#, Java) that find each other through *_SERVICE_ADDR.
  'grpc-microservices': {
    services: {
      'src/frontend': {
        type: 'golang', name: 'frontend',
        port: { container: 8080, source: 'dockerfile', file: 'src/frontend/Dockerfile', line: 10 },
        health: { kind: 'http', path: '/_healthz' }, dockerfile: 'src/frontend/Dockerfile',
      },
      'src/checkoutservice': {
        type: 'golang', name: 'checkoutservice',
        port: { container: 5050, source: 'dockerfile', file: 'src/checkoutservice/Dockerfile', line: 10 },
        health: { kind: 'grpc' },
      },
      // the main package lives in server.go, beside another file of package main
      'src/productcatalogservice': {
        type: 'golang', name: 'productcatalogservice',
        port: { container: 3550, source: 'code', file: 'src/productcatalogservice/server.go', line: 61, envVar: 'PORT' },
        health: { kind: 'grpc' }, dockerfile: null,
      },
      'src/shippingservice': {
        type: 'golang', name: 'shippingservice', port: { container: 50051, source: 'dockerfile' }, health: { kind: 'grpc' },
      },
      'src/currencyservice': {
        type: 'nodejs', name: 'currencyservice', port: { container: 7000, source: 'dockerfile' }, health: { kind: 'grpc' },
      },
      'src/paymentservice': {
        type: 'nodejs', name: 'paymentservice',
        port: { container: 50051, source: 'code', file: 'src/paymentservice/index.js', line: 4, envVar: 'PORT' },
        health: { kind: 'grpc' }, dockerfile: null,
      },
      'src/emailservice': {
        type: 'python', name: 'emailservice', port: { container: 8080, source: 'dockerfile' }, health: { kind: 'grpc' },
      },
      'src/recommendationservice': {
        type: 'python', name: 'recommendationservice', port: { container: 8080, source: 'dockerfile' }, health: { kind: 'grpc' },
      },
      // the project sits in a generic src/ folder: the service takes its parent's name
      'src/cartservice/src': {
        type: 'dotnet', name: 'cartservice', port: { container: 7070, source: 'dockerfile' }, health: { kind: 'grpc' },
      },
      // plain grpc-java with Gradle's application plugin (no Spring Boot)
      'src/adservice': {
        type: 'java', name: 'adservice', port: { container: 9555, source: 'dockerfile' }, health: { kind: 'grpc' },
      },
      'src/accountingservice': { type: 'worker', name: 'accountingservice', port: null },
    },
    edges: [
      ['src/frontend', 'src/productcatalogservice', 'code-ref'], ['src/frontend', 'src/currencyservice', 'code-ref'],
      ['src/frontend', 'src/cartservice/src', 'code-ref'], ['src/frontend', 'src/recommendationservice', 'code-ref'],
      ['src/frontend', 'src/checkoutservice', 'code-ref'], ['src/frontend', 'src/shippingservice', 'code-ref'],
      ['src/frontend', 'src/adservice', 'code-ref'],
      ['src/checkoutservice', 'src/shippingservice', 'code-ref'], ['src/checkoutservice', 'src/productcatalogservice', 'code-ref'],
      ['src/checkoutservice', 'src/cartservice/src', 'code-ref'], ['src/checkoutservice', 'src/currencyservice', 'code-ref'],
      ['src/checkoutservice', 'src/emailservice', 'code-ref'], ['src/checkoutservice', 'src/paymentservice', 'code-ref'],
      ['src/checkoutservice', 'src/shippingservice', 'grpc'], ['src/checkoutservice', 'src/productcatalogservice', 'grpc'],
      ['src/checkoutservice', 'src/cartservice/src', 'grpc'], ['src/checkoutservice', 'src/currencyservice', 'grpc'],
      ['src/checkoutservice', 'src/emailservice', 'grpc'], ['src/checkoutservice', 'src/paymentservice', 'grpc'],
      ['src/checkoutservice', 'src/accountingservice', 'broker'],
      ['src/recommendationservice', 'src/productcatalogservice', 'code-ref'],
      ['src/recommendationservice', 'src/productcatalogservice', 'grpc'],
      ['src/paymentservice', 'src/currencyservice', 'code-ref'], ['src/paymentservice', 'src/currencyservice', 'grpc'],
    ],
    edgeEvidence: [
      {
        edge: ['src/frontend', 'src/cartservice/src', 'code-ref'], envVar: 'CART_SERVICE_ADDR',
        evidence: [{ file: go, line: 74, reasonIncludes: 'CART_SERVICE_ADDR' }, { file: go, line: 74, reasonIncludes: 'mustMapEnv' }],
      },
      {
        edge: ['src/frontend', 'src/productcatalogservice', 'code-ref'], envVar: 'PRODUCT_CATALOG_SERVICE_ADDR',
        evidence: [{ file: go, line: 72, reasonIncludes: 'PRODUCT_CATALOG_SERVICE_ADDR' }],
      },
      {
        edge: ['src/checkoutservice', 'src/cartservice/src', 'grpc'],
        evidence: [
          { file: checkout, line: 156, reasonIncludes: 'CartService' },
          { file: 'src/cartservice/src/Program.cs', line: 38, reasonIncludes: 'CartService' },
        ],
      },
      {
        edge: ['src/checkoutservice', 'src/accountingservice', 'broker'],
        evidence: [
          { file: checkout, line: 86, reasonIncludes: 'orders' },
          { file: 'src/accountingservice/main.py', line: 28, reasonIncludes: 'orders' },
        ],
      },
      {
        edge: ['src/recommendationservice', 'src/productcatalogservice', 'code-ref'], envVar: 'PRODUCT_CATALOG_SERVICE_HOST',
        evidence: [{ file: 'src/recommendationservice/recommendation_server.py', line: 44 }],
      },
      {
        edge: ['src/recommendationservice', 'src/productcatalogservice', 'grpc'],
        evidence: [
          { file: 'src/recommendationservice/recommendation_server.py', line: 50, reasonIncludes: 'ProductCatalogService' },
          { file: 'src/productcatalogservice/server.go', reasonIncludes: 'ProductCatalogService' },
        ],
      },
      {
        edge: ['src/paymentservice', 'src/currencyservice', 'code-ref'], envVar: 'CURRENCY_SERVICE_ADDR',
        evidence: [{ file: 'src/paymentservice/server.js', line: 19, reasonIncludes: 'requiredEnv' }],
      },
      {
        edge: ['src/paymentservice', 'src/currencyservice', 'grpc'],
        evidence: [
          { file: 'src/paymentservice/server.js', line: 28, reasonIncludes: 'CurrencyService' },
          { file: 'src/currencyservice/server.js', line: 82, reasonIncludes: 'CurrencyService' },
        ],
      },
    ],
    order: [
      ['src/accountingservice', 'src/adservice', 'src/cartservice/src', 'src/currencyservice', 'src/emailservice',
        'src/productcatalogservice', 'src/shippingservice'],
      ['src/paymentservice', 'src/recommendationservice'],
      ['src/checkoutservice'],
      ['src/frontend'],
    ],
    patterns: ['microservices', 'background-workers'],
    problems: [],
    libraries: ['src/cartservice/tests'],
    recommendations: [
      // the tracing collector is deployed with the manifests, not in this tree
      { code: 'unknown-service-address', serviceId: 'src/frontend', messageIncludes: ['COLLECTOR_SERVICE_ADDR', 'src/frontend/main.go:63'] },
    ],
    forbiddenRecommendations: [
      { code: 'no-health-endpoint' },
      { code: 'unknown-service-address', serviceId: 'src/checkoutservice' },
      { code: 'unknown-service-address', serviceId: 'src/recommendationservice' },
      { code: 'unknown-service-address', serviceId: 'src/paymentservice' },
    ],
  },
};

for (const [name, exp] of Object.entries(expected)) {
  test(`topology of fixture ${name}`, async () => {
    const topo = await analyze(join(FIXTURES, name));
    const mismatches = checkTopology(topo, exp);
    assert.deepEqual(mismatches, [], `fixture ${name}:\n  ${mismatches.join('\n  ')}`);
  });
}
