// The autoscaler's decision (decideScale) and the gateway's nginx configuration, as pure functions over plain data:
// scale out only when every reading of a full window is above the target, in only below half of it (in between,
// nothing), never within the cooldown, always within [min, max]; the gateway balances by least connections over
// the replicas that take traffic and retries the next one on a connection error or timeout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideScale, policyOf, type CpuSample, type ScalingPolicy } from '../../server/src/engine/deploy/autoscaler';
import {
  gatewayConfig,
  gatewayPorts,
  needsGateway,
  upstreamReplicas,
} from '../../server/src/engine/deploy/gateway-config';
import { port, service } from '../support/docker-topology-builder';

const policy: ScalingPolicy = { min: 1, max: 5, targetCpu: 70, windowMs: 30_000, cooldownMs: 30_000 };
/** One reading every 5 s from `from` to `to` (ms), each `cpu`. */
function readings(from: number, to: number, cpu: number | ((at: number) => number)): CpuSample[] {
  const out: CpuSample[] = [];
  for (let at = from; at <= to; at += 5000) out.push({ at, cpu: typeof cpu === 'number' ? cpu : cpu(at) });
  return out;
}

describe('autoscaler decision', () => {
  test('scales out when every reading of the window is above the target, with the reason', () => {
    const d = decideScale({ now: 60_000, replicas: 1, samples: readings(0, 60_000, 92), policy });
    assert.deepEqual(d, { replicas: 2, reason: 'cpu 92% > 70% for 30s' });
  });

  test('scales out in proportion to the load (like an HPA), clamped to max', () => {
    assert.equal(decideScale({ now: 60_000, replicas: 2, samples: readings(0, 60_000, 180), policy })?.replicas, 5);
    assert.equal(decideScale({ now: 60_000, replicas: 3, samples: readings(0, 60_000, 180), policy })?.replicas, 5);
    assert.equal(decideScale({ now: 60_000, replicas: 5, samples: readings(0, 60_000, 180), policy }), undefined);
  });

  test('waits until readings cover a whole window: a short spike decides nothing', () => {
    assert.equal(decideScale({ now: 20_000, replicas: 1, samples: readings(0, 20_000, 95), policy }), undefined);
    const spike = readings(0, 60_000, (at) => (at === 45_000 ? 40 : 95));
    assert.equal(decideScale({ now: 60_000, replicas: 1, samples: spike, policy }), undefined);
  });

  test('hysteresis: between half the target and the target nothing changes; below half it scales in', () => {
    for (const cpu of [36, 50, 69, 70])
      assert.equal(decideScale({ now: 60_000, replicas: 3, samples: readings(0, 60_000, cpu), policy }), undefined);
    const d = decideScale({ now: 60_000, replicas: 3, samples: readings(0, 60_000, 20), policy });
    assert.deepEqual(d, { replicas: 1, reason: 'cpu 20% < 35% for 30s' });
    const gentle = decideScale({ now: 60_000, replicas: 4, samples: readings(0, 60_000, 30), policy });
    assert.equal(gentle?.replicas, 2, 'ceil(4 × 30 / 70) = 2');
  });

  test('never below min when scaling in', () => {
    assert.equal(
      decideScale({ now: 60_000, replicas: 2, samples: readings(0, 60_000, 0), policy: { ...policy, min: 2 } }),
      undefined,
    );
    assert.equal(decideScale({ now: 60_000, replicas: 2, samples: readings(0, 60_000, 0), policy })?.replicas, 1);
  });

  test('cooldown: no decision until it has passed since the last one, and only on readings taken after it', () => {
    const samples = readings(0, 100_000, 95);
    assert.equal(decideScale({ now: 50_000, replicas: 2, samples, policy, lastScaledAt: 40_000 }), undefined);
    // The cooldown has passed at 70 s, but readings after the decision at 40 s only go back to 45 s: not a window.
    assert.equal(decideScale({ now: 70_000, replicas: 2, samples, policy, lastScaledAt: 40_000 }), undefined);
    assert.equal(decideScale({ now: 75_000, replicas: 2, samples, policy, lastScaledAt: 40_000 })?.replicas, 3);
  });

  test('outside [min, max] the count is brought back, after the cooldown, whatever the load', () => {
    const p = { ...policy, min: 2, max: 3 };
    assert.deepEqual(decideScale({ now: 1000, replicas: 1, samples: [], policy: p }), {
      replicas: 2,
      reason: '1 replicas is below min 2',
    });
    assert.equal(decideScale({ now: 1000, replicas: 6, samples: [], policy: p })?.replicas, 3);
    assert.equal(decideScale({ now: 1000, replicas: 6, samples: [], policy: p, lastScaledAt: 0 }), undefined);
  });

  test('the policy comes from kyozo.yaml scaling: cooldown from it, overrides for tests', () => {
    assert.deepEqual(policyOf({ min: 1, max: 4, targetCpu: 60, cooldownSeconds: 45 }), {
      min: 1,
      max: 4,
      targetCpu: 60,
      windowMs: 30_000,
      cooldownMs: 45_000,
    });
    assert.equal(policyOf({ min: 1, max: 4, targetCpu: 70 }).cooldownMs, 30_000);
    assert.deepEqual(policyOf({ min: 1, max: 4, targetCpu: 70 }, { windowMs: 2000, cooldownMs: 3000 }).windowMs, 2000);
  });
});

describe('gateway configuration', () => {
  const replicas = [
    { name: 'shop_api_1', ip: '172.18.0.2', health: 'healthy' as const },
    { name: 'shop_api_2', ip: '172.18.0.3', health: 'unhealthy' as const },
    { name: 'shop_api_3', ip: '172.18.0.4', health: 'starting' as const },
  ];

  test('traffic goes to healthy replicas; to starting ones only when none is healthy; never to unhealthy ones', () => {
    assert.deepEqual(
      upstreamReplicas(replicas).map((r) => r.name),
      ['shop_api_1'],
    );
    assert.deepEqual(
      upstreamReplicas(replicas.slice(1)).map((r) => r.name),
      ['shop_api_3'],
    );
    assert.deepEqual(upstreamReplicas([replicas[1]!]), []);
  });

  test('least connections, passive failure detection, retry on error and timeout, per published TCP port', () => {
    const conf = gatewayConfig({ serviceName: 'api', ports: [3000, 9090], replicas: upstreamReplicas(replicas) });
    assert.match(
      conf,
      /upstream kyozo_3000 \{\n\s+least_conn;\n\s+server 172\.18\.0\.2:3000 max_fails=1 fail_timeout=10s;\n\s+\}/,
    );
    assert.match(conf, /listen 9090;/);
    assert.match(conf, /proxy_next_upstream error timeout;/);
    assert.doesNotMatch(conf, /172\.18\.0\.3/, 'the unhealthy replica is left out');
    assert.doesNotMatch(conf, /^user /m, 'no user directive: the gateway runs as a non-root user');
  });

  test('with no replica to send to, the upstream still parses and answers 502 promptly', () => {
    const conf = gatewayConfig({ serviceName: 'api', ports: [3000], replicas: [] });
    assert.match(conf, /server 127\.0\.0\.1:9 down;/);
  });

  test('addresses that are not IPs never reach the configuration', () => {
    const conf = gatewayConfig({
      serviceName: 'api',
      ports: [80],
      replicas: [{ name: 'x', ip: '1.2.3.4; include /etc/passwd', health: 'healthy' }],
    });
    assert.doesNotMatch(conf, /passwd/);
  });

  test('a service needs a gateway when it publishes TCP and has scaling or more than one replica', () => {
    const api = service('api', { ports: [port(3000), port(5353, { protocol: 'udp' })] });
    assert.deepEqual(gatewayPorts(api.ports), [3000]);
    assert.equal(needsGateway(api, 1, false), false);
    assert.equal(needsGateway(api, 3, false), true);
    assert.equal(needsGateway(api, 1, true), true, 'a gateway stays once it fronts the service');
    assert.equal(needsGateway({ ...api, scaling: { min: 1, max: 3, targetCpu: 70 } }, 1, false), true);
    assert.equal(needsGateway(service('worker'), 3, false), false, 'nothing published: no gateway');
  });
});
