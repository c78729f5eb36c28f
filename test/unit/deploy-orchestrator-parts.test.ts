// The orchestrator's pure parts, without an engine: a replica's container spec, a service's status from its
// replicas' readings, and the deployment record `up` and `scale` share.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type Docker from 'dockerode';
import { containerSpec, type ReplicaInputs } from '../../server/src/engine/deploy/container-spec';
import { DeploymentRecord, openDeployments, ServiceFailure } from '../../server/src/engine/deploy/deployment-record';
import { EventLog } from '../../server/src/engine/deploy/event-log';
import { summarizeService, type ReplicaReading } from '../../server/src/engine/deploy/service-status';
import { service, topology } from '../support/docker-topology-builder';

const api = service('api', { ports: [{ container: 3000, protocol: 'tcp' }] as never });
const ws = { topology: topology('/w', 'w', [api]), project: 'w', network: 'w_default' };
const limits = { memoryMb: 512, cpus: 0.5 };
const inputs = (over: Partial<ReplicaInputs> = {}): ReplicaInputs => ({
  image: 'sha256:abc',
  imageUser: '10001',
  replica: 2,
  ports: [{ serviceId: 'api', replica: 2, container: 3000, protocol: 'tcp', host: 41000 }] as never,
  env: { B: '2', A: '1' },
  mounts: [],
  deployment: 'd1',
  ...over,
});

type State = Partial<Docker.ContainerInspectInfo['State']>;

function reading(state: State, health: ReplicaReading['health'] = 'healthy'): ReplicaReading {
  const info = {
    Id: `id-${Math.random()}`,
    Name: '/w_api_1',
    State: {
      Status: 'running',
      Running: true,
      Restarting: false,
      ExitCode: 0,
      StartedAt: '2026-01-01T00:00:00Z',
      ...state,
    },
    NetworkSettings: { Ports: { '3000/tcp': [{ HostPort: '41000' }] } },
  } as unknown as Docker.ContainerInspectInfo;
  return { info, health };
}

describe('orchestrator parts', () => {
  test('a container spec: named and labelled per replica, one hash for the same inputs whatever the deployment', () => {
    const a = containerSpec(ws, api, inputs(), limits);
    const b = containerSpec(ws, api, inputs({ deployment: 'd2', env: { A: '1', B: '2' } }), limits);
    assert.equal(a.hash, b.hash, 'the deployment id and env order do not make a replica different');
    assert.notEqual(containerSpec(ws, api, inputs({ image: 'sha256:def' }), limits).hash, a.hash);
    assert.equal(a.options.name, 'w_api_2');
    assert.equal(a.options.Labels?.['com.docker.compose.container-number'], '2');
    assert.deepEqual(a.options.Env, ['A=1', 'B=2']);
    assert.deepEqual(a.options.HostConfig?.CapDrop, ['ALL'], 'a non-root image keeps no capabilities');
    assert.notDeepEqual(containerSpec(ws, api, inputs({ imageUser: '' }), limits).options.HostConfig?.CapDrop, ['ALL']);
    assert.deepEqual(a.options.HostConfig?.PortBindings, { '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '41000' }] });
  });

  test('a status: running and healthy, a crash with its exit code and last logs, a stop', () => {
    const ok = summarizeService(api, 2, [reading({}), reading({}, 'starting')], { stats: false });
    assert.deepEqual([ok.state, ok.health, ok.replicas], ['starting', 'starting', { running: 2, desired: 2 }]);
    assert.deepEqual(ok.ports, [{ container: 3000, host: 41000, protocol: 'tcp', url: 'http://127.0.0.1:41000' }]);
    const crashed = reading({ Status: 'exited', Running: false, ExitCode: 3 });
    const bad = summarizeService(api, 1, [crashed], { stats: false, crashLogs: ['a', 'b', 'c', 'boom'] });
    assert.deepEqual([bad.state, bad.message], ['error', 'exited with code 3: b | c | boom']);
    const sigterm = reading({ Status: 'exited', Running: false, ExitCode: 143 });
    const stopped = summarizeService(api, 1, [sigterm], { stats: false });
    assert.deepEqual([stopped.state, stopped.message], ['stopped', undefined]);
    // SIGKILL: a stop that outlived its grace period when Kyozo stopped the service, a crash otherwise.
    const sigkill = reading({ Status: 'exited', Running: false, ExitCode: 137 });
    const graceOver = summarizeService(api, 1, [sigkill], { stats: false, stoppedByKyozo: true });
    assert.deepEqual([graceOver.state, graceOver.message], ['stopped', undefined]);
    const killed = summarizeService(api, 1, [sigkill], { stats: false, stoppedByKyozo: false });
    assert.deepEqual(
      [killed.state, killed.message],
      [
        'error',
        'was killed outside Kyozo (SIGKILL, exit code 137: docker kill, the OOM killer, or a docker stop it ignored)',
      ],
    );
  });

  test('a deployment record: started with the pid, open until completed or failed', () => {
    const log = new EventLog(mkdtempSync(join(tmpdir(), 'kyozo-record-')), 'w');
    const up = DeploymentRecord.start(log, { services: ['api'] });
    const details = { scale: { from: 1, to: 3 } };
    const scale = DeploymentRecord.start(log, { kind: 'scale', serviceId: 'api', services: ['api'], details });
    assert.match(scale.id, /^scale-/);
    assert.deepEqual([...openDeployments(log.read()).keys()].sort(), [up.id, scale.id].sort());
    up.completed();
    scale.failed(new ServiceFailure('api', 'did not start\nlogs', { exitCode: 1 }));
    assert.deepEqual([...openDeployments(log.read()).keys()], []);
    const events = log.read();
    assert.equal(events[0]!.details?.pid, process.pid);
    assert.deepEqual(events.at(-1)!.details, { deployment: scale.id, exitCode: 1 });
    assert.equal(events.at(-1)!.message, 'did not start');
  });
});
