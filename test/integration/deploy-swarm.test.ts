// `kyozo up|ps|down --target swarm` on a real engine made a single-node swarm (`docker swarm init --advertise-addr
// 127.0.0.1`, left again afterwards only when this test made it). Two busybox httpd services, `web` depending on
// `api`: the CLI first refuses an engine that is no manager (when the engine was none), then `up` runs both with their
// replicas on the attachable overlay network (web reaches api by name), the host-mode ports answer, a changed env
// rolls api's tasks over health-gated (one at a time, start-first), and `down` removes services and network.
// Swarm mode leaves other tests' plain containers alone: a container started before the init still answers after.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceStatus, Topology } from '../../server/src/protocol';
import { SwarmDeployer } from '../../server/src/engine/deploy/swarm';
import { engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { kyozoCli } from '../support/kyozo-cli';
import { edge, port, service, topology as buildTopology } from '../support/docker-topology-builder';

const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-swarm-'));
const stateDir = join(work, 'state');
const project = `kz-sw-${run}`;
const image = `kyozo-${project}/httpd:1`;
const docker = testDocker();
const cli = kyozoCli(stateDir);
const evidence = { file: 'kyozo.yaml', reason: 'test' };
// Health commands every 2 s here (the product's minimum is 10 s), so a rolling update takes seconds, not a minute.
const deployer = new SwarmDeployer({ stateDir, project, healthIntervalSeconds: 2, healthTimeoutMs: 150_000 });

function swarmState(): { state: string; manager: boolean } {
  const out = execFileSync('docker', ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'], {
    encoding: 'utf8',
  }).trim();
  const [state, manager] = out.split(' ');
  return { state: state ?? '', manager: manager === 'true' };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

function make(mode: string): Topology {
  const health = {
    kind: 'command' as const,
    command: ['wget -q -O /dev/null http://127.0.0.1:8080/'],
    intervalSeconds: 2,
    evidence,
  };
  const start = (script: string) => ({
    command: script,
    argv: ['sh', '-c', script],
    source: 'kyozo.yaml' as const,
    evidence,
  });
  const api = service('api', {
    type: 'static',
    image,
    replicas: 2,
    ports: [port(8080)],
    healthCheck: health,
    resources: { memoryMb: 32, cpus: 0.2 },
    env: [{ name: 'MODE', value: mode, secret: false, evidence }],
    start: start('echo "$MODE" > /www/mode.txt; hostname > /www/host.txt; exec httpd -f -p 8080 -h /www'),
  });
  const web = service('web', {
    type: 'static',
    image,
    ports: [port(8080)],
    healthCheck: health,
    resources: { memoryMb: 32, cpus: 0.2 },
    start: start(
      'echo "$API_URL" > /www/api-url.txt; ' +
        'printf "GET /mode.txt HTTP/1.0\\r\\n\\r\\n" | nc api 8080 > /www/from-api.txt; ' +
        'exec httpd -f -p 8080 -h /www',
    ),
  });
  return buildTopology(work, project, [api, web], [edge('web', 'api', { envVar: 'API_URL' })]);
}

describe('kyozo up --target swarm on a single-node swarm', { timeout: 600_000 }, async () => {
  if (!(await engineAvailable())) {
    test('kyozo up --target swarm', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  const initial = swarmState();
  let createdSwarm = false;
  let bystander = '';
  const topologyFile = join(work, 'topology.json');

  before(async () => {
    await ensureTestBaseImages();
    const dockerfile = [`FROM ${TEST_BASE_IMAGES.busybox}`, 'RUN echo ok > /www/index.html', 'EXPOSE 8080'].join('\n');
    execFileSync('docker', ['build', '-q', '-t', image, '-'], { input: dockerfile, stdio: ['pipe', 'ignore', 'pipe'] });
    writeFileSync(topologyFile, JSON.stringify(make('one')));
    // A plain container, as another test would have, started before the swarm exists.
    bystander = execFileSync(
      'docker',
      [
        'run',
        '-d',
        '--rm',
        '--label',
        `dev.kyozo.workspace=${project}`,
        '-p',
        '127.0.0.1::8080',
        image,
        'httpd',
        '-f',
        '-p',
        '8080',
        '-h',
        '/www',
      ],
      { encoding: 'utf8' },
    ).trim();
  });

  after(async () => {
    await deployer.down(make('one')).catch(() => undefined);
    if (bystander) spawnSync('docker', ['rm', '-f', bystander], { stdio: 'ignore' });
    if (createdSwarm) {
      spawnSync('docker', ['swarm', 'leave', '--force'], { stdio: 'ignore' });
      spawnSync('docker', ['network', 'rm', 'docker_gwbridge'], { stdio: 'ignore' });
    }
    spawnSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  });

  test('an engine that is no swarm manager is refused with what to run', async (t) => {
    if (initial.state === 'active')
      return t.skip(`the engine is already a swarm ${initial.manager ? 'manager' : 'worker'}`);
    const r = await cli(['up', '--target', 'swarm', '--topology', topologyFile, '--project', project], 120_000);
    assert.equal(r.status, 69, r.stderr);
    assert.match(r.stderr, /not part of a Swarm \(state: inactive\)/);
    assert.match(r.stderr, /docker swarm init --advertise-addr 127\.0\.0\.1/);
    const bad = await cli(['ps', '--target', 'kubernetes', '--topology', topologyFile], 60_000);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--target expects one of docker, swarm; got 'kubernetes'/);
  });

  test('up runs both services with their replicas on the overlay network, on host-mode ports', async () => {
    if (initial.state !== 'active') {
      execFileSync('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { stdio: 'ignore' });
      createdSwarm = true;
    }
    assert.ok(swarmState().manager, 'the engine is a swarm manager now');
    const r = await cli(
      ['up', '--target', 'swarm', '--topology', topologyFile, '--project', project, '--json'],
      300_000,
    );
    assert.equal(r.status, 0, r.stderr);
    const statuses = JSON.parse(r.stdout) as ServiceStatus[];
    const api = statuses.find((s) => s.name === 'api')!;
    const web = statuses.find((s) => s.name === 'web')!;
    assert.deepEqual(api.replicas, { running: 2, desired: 2 });
    assert.deepEqual(web.replicas, { running: 1, desired: 1 });
    assert.equal(api.state, 'running');
    const services = await docker.listServices({ filters: { label: [`dev.kyozo.workspace=${project}`] } });
    assert.deepEqual(services.map((s) => s.Spec?.Name).sort(), [`${project}_api`, `${project}_web`]);
    const spec = services.find((s) => s.Spec?.Name === `${project}_api`)!.Spec!;
    assert.equal(spec.UpdateConfig?.Order, 'start-first');
    assert.equal(spec.UpdateConfig?.FailureAction, 'rollback');
    assert.equal(spec.EndpointSpec?.Ports?.[0]?.PublishMode, 'host');
    const net = (await docker.listNetworks({ filters: { name: [`${project}_swarm`] } }))[0]!;
    const netInfo = (await docker.getNetwork(net.Id).inspect()) as { Driver: string; Attachable: boolean };
    assert.equal(netInfo.Driver, 'overlay');
    assert.equal(netInfo.Attachable, true);
    // The host-mode port answers; web found api by name over the overlay network, with the URL in its env.
    assert.equal((await get(`${web.ports[0]!.url}/index.html`)).body.trim(), 'ok');
    assert.equal((await get(`${web.ports[0]!.url}/api-url.txt`)).body.trim(), 'http://api:8080');
    assert.match((await get(`${web.ports[0]!.url}/from-api.txt`)).body, /200 OK[\s\S]*\bone\b/);
    const apiHosts = new Set<string>();
    const ps = await cli(
      ['ps', '--target', 'swarm', '--topology', topologyFile, '--project', project, '--json'],
      60_000,
    );
    assert.equal(ps.status, 0, ps.stderr);
    const listed = JSON.parse(ps.stdout) as ServiceStatus[];
    assert.equal(listed.find((s) => s.name === 'api')!.containers.length, 2);
    for (const c of listed.find((s) => s.name === 'api')!.containers) {
      const info = await docker.getContainer(c.containerId).inspect();
      const hostPort = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
      apiHosts.add((await get(`http://127.0.0.1:${hostPort}/host.txt`)).body.trim());
    }
    assert.equal(apiHosts.size, 2, 'each replica answers on its own host port');
    // The container started before the swarm still answers.
    const bport = (await docker.getContainer(bystander).inspect()).NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    assert.equal((await get(`http://127.0.0.1:${bport}/index.html`)).body.trim(), 'ok');
  });

  test('a changed env rolls the tasks over one at a time, health-gated, start-first', async () => {
    const before = await docker.listServices({ filters: { name: [`${project}_api`] } });
    const t0 = new Date().toISOString();
    const statuses = await deployer.up(make('two'), { services: ['api'] });
    const api = statuses.find((s) => s.name === 'api')!;
    assert.deepEqual(api.replicas, { running: 2, desired: 2 });
    const after = (await docker.getService(before[0]!.ID).inspect()) as {
      UpdateStatus?: { State?: string; StartedAt?: string };
    };
    assert.equal(after.UpdateStatus?.State, 'completed');
    assert.ok((after.UpdateStatus?.StartedAt ?? '') >= t0.slice(0, 19), JSON.stringify(after.UpdateStatus));
    for (const c of api.containers) {
      const info = await docker.getContainer(c.containerId).inspect();
      assert.ok(info.Config.Env.includes('MODE=two'), 'the new tasks run with the new env');
      assert.equal(info.State.Health?.Status, 'healthy');
    }
    // start-first: every old task was shut down only after its replacement started (no slot went without a task).
    const tasks = (await docker.listTasks({ filters: { service: [before[0]!.ID] } })) as {
      Slot: number;
      DesiredState: string;
      Status: { State: string; Timestamp: string };
      CreatedAt: string;
    }[];
    for (const slot of [1, 2]) {
      const mine = tasks.filter((t) => t.Slot === slot).sort((a, b) => a.CreatedAt.localeCompare(b.CreatedAt));
      assert.equal(mine.length, 2, `slot ${slot}: one old task and its replacement`);
      assert.equal(mine[0]!.DesiredState, 'shutdown');
      assert.equal(mine[1]!.Status.State, 'running');
    }
    const events = (await deployer.status(make('two'))).find((s) => s.name === 'api')!;
    assert.equal(events.state, 'running');
    const apiUrl = api.ports[0]!.url!;
    assert.equal((await get(`${apiUrl}/mode.txt`)).body.trim(), 'two');
  });

  test('down removes the services and the overlay network', async () => {
    const r = await cli(['down', '--target', 'swarm', '--topology', topologyFile, '--project', project], 120_000);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed the Swarm services/);
    assert.deepEqual(await docker.listServices({ filters: { label: [`dev.kyozo.workspace=${project}`] } }), []);
    assert.deepEqual(
      (await docker.listNetworks({ filters: { name: [`${project}_swarm`] } })).map((n) => n.Name),
      [],
    );
  });
});
