// The load-balancing gateway on a real engine with a real nginx (Debian's, in a local FROM scratch image): three
// busybox httpd replicas answer with their hostname through the one published URL; 300 requests reach all three;
// a replica whose health check fails leaves the upstream; a replica killed under 20 requests in flight costs no
// failed request; scaling 3 -> 1 -> 2 keeps the URL; nginx rejecting a configuration keeps the running one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceStatus, Topology } from '../../server/src/protocol';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { GatewayError } from '../../server/src/engine/deploy/gateway';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { ensureTestGatewayImage, TEST_GATEWAY_IMAGE } from '../support/gateway-image';
import { port, service, topology as buildTopology } from '../support/docker-topology-builder';

const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-gateway-'));
const project = `kz-gw-${run}`;
const image = `kyozo-${project}/whoami:1`;
const orchestrator = createOrchestrator({ stateDir: join(work, 'state'), project, gatewayImage: TEST_GATEWAY_IMAGE });
const docker = testDocker();

/** GET url: the body, or the error/status that made it fail. */
function get(url: string): Promise<{ ok: boolean; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ ok: res.statusCode === 200, body: res.statusCode === 200 ? body.trim() : `HTTP ${res.statusCode}` }),
      );
      res.on('error', (e) => resolve({ ok: false, body: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, body: e.message }));
    req.end();
  });
}

/** `total` GETs, `inFlight` at a time; `during(i)` runs once the i-th request has been sent. */
async function load(
  url: string,
  total: number,
  inFlight: number,
  during?: { at: number; run: () => Promise<void> },
): Promise<{ ok: number; failed: string[]; hosts: Map<string, number> }> {
  let next = 0;
  let ok = 0;
  const failed: string[] = [];
  const hosts = new Map<string, number>();
  let side: Promise<void> | undefined;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      if (during && i === during.at) side = during.run();
      const r = await get(url);
      if (r.ok) {
        ok++;
        hosts.set(r.body, (hosts.get(r.body) ?? 0) + 1);
      } else failed.push(`#${i}: ${r.body}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  await side;
  return { ok, failed, hosts };
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('load-balancing gateway on a real engine', { timeout: 600_000 }, async () => {
  if (!(await engineAvailable())) {
    test('load-balancing gateway on a real engine', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let topology: Topology;
  let watch: { dispose(): void } | undefined;
  const web = async (): Promise<ServiceStatus> =>
    (await orchestrator.status(topology, { stats: false })).find((s) => s.name === 'web')!;

  before(async () => {
    await ensureTestBaseImages();
    await ensureTestGatewayImage();
    // Each replica answers with its hostname (a CGI script); its HEALTHCHECK passes while /www/healthy exists.
    const dockerfile = [
      `FROM ${TEST_BASE_IMAGES.busybox}`,
      'RUN mkdir -p /www/cgi-bin && touch /www/healthy && ' +
        `printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\nhostname\\n' > /www/cgi-bin/host && ` +
        'chmod 755 /www/cgi-bin/host',
      'HEALTHCHECK --interval=1s --timeout=2s --start-period=30s --retries=2 CMD test -f /www/healthy',
      'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
    ].join('\n');
    execFileSync('docker', ['build', '-q', '-t', image, '-'], { input: dockerfile, stdio: ['pipe', 'ignore', 'pipe'] });
    topology = buildTopology(work, project, [
      service('compose.yaml#web', {
        type: 'static',
        image,
        replicas: 3,
        ports: [port(8080, { source: 'compose' })],
        healthCheck: { kind: 'http', path: '/cgi-bin/host', evidence: { file: 'compose.yaml', reason: 'test' } },
      }),
    ]);
  });

  after(async () => {
    watch?.dispose();
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  let url = '';

  test('3 replicas behind one URL: 300 requests reach all three, the replicas publish nothing', async () => {
    const statuses = await orchestrator.up(topology);
    const s = statuses.find((x) => x.name === 'web')!;
    assert.deepEqual(s.replicas, { running: 3, desired: 3 });
    url = `${s.ports[0]!.url!}/cgi-bin/host`;
    const replicas = await docker.listContainers({
      filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.service=compose.yaml#web`] },
    });
    assert.equal(replicas.length, 3);
    for (const r of replicas)
      assert.deepEqual(
        r.Ports.filter((p) => p.PublicPort),
        [],
        `${r.Names[0]} publishes`,
      );
    const result = await load(url, 300, 10);
    assert.deepEqual(result.failed, []);
    assert.equal(result.hosts.size, 3, JSON.stringify([...result.hosts]));
    for (const [host, n] of result.hosts) assert.ok(n >= 30, `${host} took only ${n} of 300`);
  });

  test('the gateway is labelled like every Kyozo container, runs as a non-root user, unprivileged', async () => {
    const [gw] = await docker.listContainers({
      filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.gateway=compose.yaml#web`] },
    });
    assert.ok(gw, 'a gateway container runs');
    const info = await docker.getContainer(gw.Id).inspect();
    assert.equal(info.Config.Labels['dev.kyozo.workspace'], project);
    assert.equal(info.Config.Labels['com.docker.compose.project'], project);
    assert.equal(info.Config.User, '101:101');
    assert.equal(info.HostConfig.Privileged, false);
    assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
    assert.equal(info.Config.Image, TEST_GATEWAY_IMAGE);
  });

  test('a replica whose health check fails leaves the upstream; back in when it passes again', async () => {
    watch = orchestrator.watch(
      () => topology,
      () => undefined,
    );
    const [, second] = await docker.listContainers({
      filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.service=compose.yaml#web`] },
    });
    const sick = second!.Id;
    const hostname = (await docker.getContainer(sick).inspect()).Config.Hostname;
    const exec = async (cmd: string[]) => {
      const e = await docker.getContainer(sick).exec({ Cmd: cmd });
      await e.start({ Detach: true });
    };
    await exec(['rm', '/www/healthy']);
    await waitFor(
      'the unhealthy replica left the gateway',
      async () => (await load(url, 30, 5)).hosts.has(hostname),
      (reached) => !reached,
    );
    const steady = await load(url, 60, 5);
    assert.deepEqual(steady.failed, []);
    assert.equal(steady.hosts.size, 2, JSON.stringify([...steady.hosts]));
    const events = await orchestrator.events(topology, 'compose.yaml#web');
    assert.ok(
      events.some((e) => e.type === 'health_changed' && /left out: .*unhealthy/.test(e.message ?? '')),
      'the gateway change is recorded',
    );
    await exec(['touch', '/www/healthy']);
    await waitFor(
      'the replica came back',
      async () => (await load(url, 30, 5)).hosts.size,
      (n) => n === 3,
    );
  });

  test('a replica killed under 20 requests in flight costs no failed request', async () => {
    const [, , third] = await docker.listContainers({
      filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.service=compose.yaml#web`] },
    });
    const result = await load(url, 600, 20, {
      at: 150,
      run: () => docker.getContainer(third!.Id).kill(),
    });
    assert.deepEqual(result.failed, []);
    assert.equal(result.ok, 600);
  });

  test('scaling 3 -> 1 -> 2 keeps the URL, and every answer succeeds', async () => {
    const before = (await web()).ports[0]!.url;
    const one = await orchestrator.scale(topology, 'compose.yaml#web', 1);
    assert.equal(one.ports[0]!.url, before);
    const r1 = await load(url, 40, 5);
    assert.deepEqual(r1.failed, []);
    assert.equal(r1.hosts.size, 1);
    const two = await orchestrator.scale(topology, 'compose.yaml#web', 2);
    assert.equal(two.ports[0]!.url, before);
    const r2 = await load(url, 60, 5);
    assert.deepEqual(r2.failed, []);
    assert.equal(r2.hosts.size, 2, JSON.stringify([...r2.hosts]));
  });

  test('a configuration nginx rejects is not applied: the running one keeps serving, the reason is reported', async () => {
    const [gw] = await docker.listContainers({
      filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.gateway=compose.yaml#web`] },
    });
    const ws = orchestrator.workspace(topology);
    const svc = topology.services[0]!;
    await assert.rejects(
      orchestrator.gateways.reload(ws, svc, docker.getContainer(gw!.Id), 'events {}\nhttp { upstream broken { } }\n'),
      (e: Error) =>
        e instanceof GatewayError && /nginx rejected the new one .*no servers are inside upstream/.test(e.message),
    );
    const r = await load(url, 20, 5);
    assert.deepEqual(r.failed, []);
  });

  test('down removes the gateway with the replicas', async () => {
    watch?.dispose();
    watch = undefined;
    await orchestrator.down(topology);
    const left = await docker.listContainers({ all: true, filters: { label: [`dev.kyozo.workspace=${project}`] } });
    assert.deepEqual(
      left.map((c) => c.Names[0]),
      [],
    );
  });
});
