// Which services a deployment of one service covers, and which ones each waits for before it starts: what it depends
// on, never what only shares a queue or topic with it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../server/src/engine';
import { awaitedDependencies, selectServices } from '../../server/src/engine/deploy/service-selection';
import { FIXTURES } from '../support/fixture-expect';

const ROOT = join(__dirname, '..', '..');
const ids = (services: { id: string }[]) => services.map((s) => s.id).sort();

test('deploying the checkout service brings the services it calls, not the consumer of the topic it publishes', async () => {
  const topology = await analyze(join(FIXTURES, 'grpc-microservices'));
  const broker = topology.edges.find((e) => e.kind === 'broker' && e.from === 'src/checkoutservice');
  assert.equal(broker?.to, 'src/accountingservice', 'the fixture relates checkout and accounting through a topic');
  assert.deepEqual(ids(selectServices(topology, ['checkoutservice'])), [
    'src/cartservice/src',
    'src/checkoutservice',
    'src/currencyservice',
    'src/emailservice',
    'src/paymentservice',
    'src/productcatalogservice',
    'src/shippingservice',
  ]);
});

test('deploying a producer alone starts only the producer; its consumers stay as they are', async () => {
  const topology = await analyze(join(FIXTURES, 'broker-queues'));
  assert.ok(
    topology.edges.some((e) => e.kind === 'broker' && e.from === 'api'),
    'the api publishes to queues',
  );
  const selected = ids(selectServices(topology, ['api']));
  for (const consumer of ['worker', 'auditor', 'notifier']) assert.ok(!selected.includes(consumer), selected.join());
  assert.ok(selected.includes('api'));
});

test('deploying everything still covers the consumers', async () => {
  const topology = await analyze(join(FIXTURES, 'broker-queues'));
  const all = ids(selectServices(topology));
  for (const consumer of ['worker', 'auditor', 'notifier']) assert.ok(all.includes(consumer), all.join());
});

// Which services a service waits for before it starts (docker-orchestrator's `up`).
test('the shop api waits for the services and data stores it calls, not for the worker it only sends jobs to', async () => {
  const topology = await analyze(join(ROOT, 'examples', 'shop'));
  assert.ok(
    topology.edges.some((e) => e.kind === 'broker' && e.from === 'api' && e.to === 'worker'),
    'the shop relates api and worker only through a queue',
  );
  assert.ok(
    topology.order.findIndex((w) => w.includes('worker')) < topology.order.findIndex((w) => w.includes('api')),
    'the worker starts in an earlier wave than the api (for its own reasons: it needs the cache)',
  );
  const all = new Set(selectServices(topology).map((s) => s.id));
  assert.deepEqual(awaitedDependencies(topology, 'api', all).sort(), [
    'compose.yaml#cache',
    'compose.yaml#db',
    'orders',
    'users',
  ]);
  // The worker still waits for the broker it reads from (the cache), and the gateway for what it proxies.
  assert.deepEqual(awaitedDependencies(topology, 'worker', all), ['compose.yaml#cache']);
  assert.deepEqual(awaitedDependencies(topology, 'gateway', all).sort(), ['api', 'web']);
  // Only what is deployed together is waited for.
  assert.deepEqual(awaitedDependencies(topology, 'api', new Set(['api', 'worker', 'orders'])), ['orders']);
});

test('producers and consumers of one topic each wait for the broker, not for each other', async () => {
  const topology = await analyze(join(FIXTURES, 'event-driven'));
  const all = new Set(selectServices(topology).map((s) => s.id));
  for (const id of ['orders', 'notifications', 'shipping'])
    assert.deepEqual(awaitedDependencies(topology, id, all), ['compose.yaml#kafka'], id);
  // Even when the topology's order puts a consumer in an earlier wave, a topic is no reason to wait for it.
  const shuffled = { ...topology, order: [['compose.yaml#kafka'], ['notifications', 'shipping'], ['orders']] };
  assert.deepEqual(awaitedDependencies(shuffled, 'orders', all), ['compose.yaml#kafka']);
});
