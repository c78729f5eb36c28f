// The sync server image: built from sync-server/Dockerfile on a local base image, run unprivileged on a loopback
// port, serving real encrypted clients, and flushing on `docker stop`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { engineAvailable } from '../support/docker-engine';
import { createTeamRoom, createUser, openProvider, waitFor } from '../support/sync-harness';

const root = join(__dirname, '..', '..');
const TAG = 'kyozo-sync-test:it';

test('the sync server image runs unprivileged and serves encrypted clients', { timeout: 180_000 }, async (t) => {
  if (!(await engineAvailable())) {
    t.skip('no Docker engine');
    return;
  }
  console.log('# ensuring base images');
  const base = await ensureTestBaseImages();
  console.log('# building');
  execFileSync('bash', [join(root, 'sync-server/build-image.sh')], {
    cwd: root,
    env: { ...process.env, BASE_IMAGE: base.node, TAG },
    stdio: 'pipe',
  });
  const keepAlive = setInterval(() => undefined, 1000); // fetch's sockets do not hold the event loop open
  const cid = execFileSync('docker', ['run', '-d', '--rm', '-p', '127.0.0.1::4444', TAG], { encoding: 'utf8' }).trim();
  try {
    console.log('# started', cid.slice(0, 12));
    const port = Number(
      execFileSync('docker', ['port', cid, '4444'], { encoding: 'utf8' }).split('\n')[0].split(':').pop(),
    );
    const server = { url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` };
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(
          `container did not answer /healthz: ${execFileSync('docker', ['logs', cid], { encoding: 'utf8' })}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(
      execFileSync('docker', ['exec', cid, 'id', '-u'], { encoding: 'utf8' }).trim(),
      '10001',
      'runs as an unprivileged user',
    );
    const inspect = JSON.parse(execFileSync('docker', ['inspect', cid], { encoding: 'utf8' }))[0];
    assert.equal(inspect.HostConfig.Privileged, false);
    const alice = await createUser(server, 'dock-alice');
    const bob = await createUser(server, 'dock-bob');
    const { roomId } = await createTeamRoom(alice, [{ user: bob }]);
    const a = await openProvider(server, alice, roomId);
    const b = await openProvider(server, bob, roomId);
    await Promise.all([a.provider.whenSynced(), b.provider.whenSynced()]);
    a.text.insert(0, 'hello from a container;');
    await waitFor(() => b.text.toString() === 'hello from a container;', 'relay through the container');
    await a.provider.whenAcked();
    [a, b].forEach((x) => x.provider.destroy());
    const logs = execFileSync('docker', ['logs', cid], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(logs, /sync server listening/);
    assert.doesNotMatch(logs, /hello from a container/, 'no plaintext in the container logs');
    execFileSync('docker', ['stop', '-t', '10', cid]);
  } finally {
    clearInterval(keepAlive);
    try {
      execFileSync('docker', ['rm', '-f', cid], { stdio: 'ignore' });
    } catch {
      /* already gone (--rm) */
    }
    try {
      execFileSync('docker', ['rmi', '-f', TAG], { stdio: 'ignore' });
    } catch {
      /* in use or gone */
    }
  }
});
