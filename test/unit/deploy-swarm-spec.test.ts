// The Swarm target's pure parts, without an engine: a service's ServiceSpec (health-gated rolling updates, host-mode
// ports, resources, restart policy, labels, env, health check, the overlay network), the manager check's messages,
// and a service's status from its tasks.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { serviceEnvironment } from '../../server/src/engine/deploy/service-env';
import { StateStore } from '../../server/src/engine/deploy/state-store';
import { swarmManagerProblem } from '../../server/src/engine/deploy/swarm/swarm-manager';
import {
  MIN_HEALTH_INTERVAL_SECONDS,
  STACK_NAMESPACE_LABEL,
  SWARM_HASH_LABEL,
  swarmServiceSpec,
} from '../../server/src/engine/deploy/swarm/swarm-spec';
import { swarmServiceStatus, type SwarmTask } from '../../server/src/engine/deploy/swarm/swarm-status';
import { edge, port, service, topology } from '../support/docker-topology-builder';

const evidence = { file: 'kyozo.yaml', reason: 'test' };
const api = service('api', {
  ports: [port(8080)],
  healthCheck: {
    kind: 'command',
    command: ['wget -q -O /dev/null http://127.0.0.1:8080/'],
    intervalSeconds: 2,
    evidence,
  },
  resources: { memoryMb: 64, cpus: 0.25 },
});
const web = service('web', { ports: [port(80, { host: 8088 })] });
const topo = topology('/w', 'w', [api, web], [edge('web', 'api')]);
const store = new StateStore(mkdtempSync(join(tmpdir(), 'kyozo-swarm-spec-')));
const limits = { memoryMb: 512, cpus: 0.5 };
const ws = { topology: topo, project: 'w', network: 'w_swarm' };
const inputs = (s: typeof api, over = {}) => ({
  image: 'kyozo-w/api:abc',
  replicas: 2,
  env: serviceEnvironment(topo, s, store),
  mounts: [],
  endpointMode: 'dnsrr' as const,
  ...over,
});

describe('Swarm service spec', () => {
  test('replicas, health-gated start-first rolling updates with rollback, resources and restart policy', () => {
    const { spec, order } = swarmServiceSpec(ws, api, inputs(api), limits);
    assert.equal(spec.Name, 'w_api');
    assert.deepEqual(spec.Mode, { Replicated: { Replicas: 2 } });
    assert.equal(order, 'start-first');
    assert.equal(spec.UpdateConfig?.Order, 'start-first');
    assert.equal(spec.UpdateConfig?.FailureAction, 'rollback');
    assert.equal(spec.UpdateConfig?.Parallelism, 1);
    assert.ok((spec.UpdateConfig?.Monitor ?? 0) >= 5e9, 'a monitor window after each task is updated');
    const task = spec.TaskTemplate as { Resources: unknown; RestartPolicy: { Condition: string; MaxAttempts: number } };
    assert.deepEqual(task.Resources, { Limits: { MemoryBytes: 64 * 1024 * 1024, NanoCPUs: 0.25e9 } });
    assert.equal(task.RestartPolicy.Condition, 'on-failure');
    assert.equal(task.RestartPolicy.MaxAttempts, 5);
  });

  test('the health command runs every 10 s or more with a start period, however often it asked', () => {
    const { spec } = swarmServiceSpec(ws, api, inputs(api), limits);
    const hc = (spec.TaskTemplate as { ContainerSpec: { HealthCheck: Record<string, unknown> } }).ContainerSpec
      .HealthCheck;
    assert.deepEqual(hc.Test, ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/']);
    assert.equal(hc.Interval, MIN_HEALTH_INTERVAL_SECONDS * 1e9);
    assert.ok((hc.StartPeriod as number) > 0);
  });

  test('host-mode ports: engine-chosen per task, or a requested one, which makes updates stop-first', () => {
    const a = swarmServiceSpec(ws, api, inputs(api), limits);
    assert.deepEqual(a.spec.EndpointSpec, {
      Mode: 'dnsrr',
      Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }],
    });
    const w = swarmServiceSpec(ws, web, inputs(web), limits);
    assert.deepEqual(w.spec.EndpointSpec?.Ports, [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8088, PublishMode: 'host' },
    ]);
    assert.equal(w.order, 'stop-first');
    assert.equal(w.spec.UpdateConfig?.Order, 'stop-first');
  });

  test("labels name the workspace, service and folder (and the stack), env carries the dependency's URL", () => {
    const { spec, hash } = swarmServiceSpec(ws, web, inputs(web), limits);
    assert.equal(spec.Labels?.['dev.kyozo.workspace'], 'w');
    assert.equal(spec.Labels?.['dev.kyozo.service'], 'web');
    assert.equal(spec.Labels?.[STACK_NAMESPACE_LABEL], 'w');
    assert.equal(spec.Labels?.[SWARM_HASH_LABEL], hash);
    const task = spec.TaskTemplate as {
      ContainerSpec: { Env: string[]; Labels: Record<string, string> };
      Networks: { Target: string; Aliases: string[] }[];
    };
    assert.ok(task.ContainerSpec.Env.includes('API_URL=http://api:8080'), task.ContainerSpec.Env.join(' '));
    assert.equal(task.ContainerSpec.Labels['dev.kyozo.folder'], 'web');
    assert.deepEqual(task.Networks, [{ Target: 'w_swarm', Aliases: ['web'] }]);
  });

  test('an image that exists on one node only keeps the service on that node', () => {
    const { spec } = swarmServiceSpec(ws, api, inputs(api, { constraints: ['node.id==n1'] }), limits);
    assert.deepEqual((spec.TaskTemplate as { Placement?: unknown }).Placement, { Constraints: ['node.id==n1'] });
    const free = swarmServiceSpec(ws, api, inputs(api), limits);
    assert.equal((free.spec.TaskTemplate as { Placement?: unknown }).Placement, undefined);
  });

  test('without an overlay network the service has none; a changed env changes the hash', () => {
    const { spec } = swarmServiceSpec({ ...ws, network: undefined }, api, inputs(api), limits);
    assert.equal((spec.TaskTemplate as { Networks?: unknown }).Networks, undefined);
    const a = swarmServiceSpec(ws, api, inputs(api), limits);
    const b = swarmServiceSpec(ws, api, inputs(api, { env: { MODE: 'b' } }), limits);
    assert.notEqual(a.hash, b.hash);
    assert.notEqual(a.taskHash, b.taskHash);
    const c = swarmServiceSpec(ws, api, inputs(api, { replicas: 3 }), limits);
    assert.notEqual(a.hash, c.hash);
    assert.equal(a.taskHash, c.taskHash, 'a replica count alone replaces no task');
  });
});

describe('Swarm manager check', () => {
  test('an engine outside a swarm is told how to make one', () => {
    const m = swarmManagerProblem({ Swarm: { LocalNodeState: 'inactive' } }, 'unix:///var/run/docker.sock');
    assert.match(m!, /not part of a Swarm \(state: inactive\)/);
    assert.match(m!, /docker swarm init --advertise-addr 127\.0\.0\.1/);
    assert.match(m!, /DOCKER_HOST/);
  });
  test('a worker is told to use a manager', () => {
    const m = swarmManagerProblem({ Swarm: { LocalNodeState: 'active', ControlAvailable: false } }, 'tcp://w:2375');
    assert.match(m!, /Swarm worker, not a manager/);
  });
  test('a manager passes', () => {
    assert.equal(swarmManagerProblem({ Swarm: { LocalNodeState: 'active', ControlAvailable: true } }, 'x'), undefined);
  });
});

describe('Swarm service status from its tasks', () => {
  const task = (slot: number, state: string, over: Partial<SwarmTask> = {}): SwarmTask => ({
    ID: `t${slot}${state}`,
    Slot: slot,
    NodeID: 'n1',
    DesiredState: state === 'failed' || state === 'shutdown' ? 'shutdown' : 'running',
    Status: {
      State: state,
      Timestamp: `2026-01-01T00:00:0${slot}Z`,
      ContainerStatus: { ContainerID: `c${slot}` },
      PortStatus: {
        Ports: [
          { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 30000 + slot },
          { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 30000 + slot },
        ],
      },
    },
    ...over,
  });
  const node = () => '127.0.0.1';

  test('all desired tasks running: running and healthy, with the first task host port', () => {
    const s = swarmServiceStatus(api, 'w_api', 2, [task(1, 'running'), task(2, 'running'), task(3, 'shutdown')], node);
    assert.equal(s.state, 'running');
    assert.equal(s.health, 'healthy');
    assert.deepEqual(s.replicas, { running: 2, desired: 2 });
    assert.deepEqual(s.ports, [{ container: 8080, host: 30001, protocol: 'tcp', url: 'http://127.0.0.1:30001' }]);
    assert.deepEqual(
      s.containers.map((c) => c.name),
      ['w_api.1', 'w_api.2'],
    );
  });

  test('a failed task while fewer than desired run: error, with the task error', () => {
    const failed = task(2, 'failed', { Status: { State: 'failed', Err: 'task: non-zero exit (1)', Timestamp: 'z' } });
    const s = swarmServiceStatus(api, 'w_api', 2, [task(1, 'running'), task(2, 'starting'), failed], node);
    assert.equal(s.state, 'error');
    assert.equal(s.health, 'unhealthy');
    assert.match(s.message!, /non-zero exit \(1\)/);
  });

  test('a task still starting: starting', () => {
    const s = swarmServiceStatus(api, 'w_api', 2, [task(1, 'running'), task(2, 'starting')], node);
    assert.equal(s.state, 'starting');
  });
});
