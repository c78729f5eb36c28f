// Which services a deployment of one service covers: what it depends on, never what only shares a queue with it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../server/src/engine';
import { selectServices } from '../../server/src/engine/deploy/service-selection';
import { FIXTURES } from '../support/fixture-expect';

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
