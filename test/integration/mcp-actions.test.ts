// `kyozo mcp --allow-actions` on a real Docker engine, driven by the SDK's Client over stdio: kyozo_deploy builds and
// starts a service from the local test base images, kyozo_status and kyozo_logs read it back, kyozo_stop stops it;
// without the flag the same calls are refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanupWorkspace, engineAvailable } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { startMcp, textOf, type McpSession } from '../support/mcp-client';

const fixture = join(__dirname, '..', 'fixtures', 'deploy-stack');
const project = `kz-mcp-${randomBytes(3).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'kyozo-mcp-'));
const dir = join(work, project);

describe('kyozo mcp actions on a real engine', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('kyozo mcp actions on a real engine', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let mcp: McpSession;

  before(async () => {
    await ensureTestBaseImages();
    cpSync(fixture, dir, { recursive: true });
    mcp = await startMcp(dir, [
      '--allow-actions',
      '--state-dir',
      join(work, 'state'),
      '--base-image',
      `node=${TEST_BASE_IMAGES.node}`,
    ]);
  });

  after(async () => {
    await mcp?.close();
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('without --allow-actions, deploy, stop and logs are not offered', async () => {
    const readOnly = await startMcp(dir, ['--state-dir', join(work, 'state')]);
    try {
      for (const name of ['kyozo_deploy', 'kyozo_stop', 'kyozo_logs']) {
        const r = await readOnly.client.callTool({ name, arguments: { service: 'files' } });
        assert.equal(r.isError, true, name);
        assert.match(textOf(r), new RegExp(`Tool ${name} not found`));
      }
    } finally {
      await readOnly.close();
    }
  });

  test('kyozo_deploy starts a service, kyozo_status and kyozo_logs read it, kyozo_stop stops it', async () => {
    const bad = await mcp.client.callTool({ name: 'kyozo_deploy', arguments: { services: ['nope'] } });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /no service 'nope'/);

    const deployed = await mcp.client.callTool({ name: 'kyozo_deploy', arguments: { services: ['files'] } });
    assert.notEqual(deployed.isError, true, textOf(deployed));
    const files = (
      JSON.parse(textOf(deployed)) as { service: string; state: string; ports: { url?: string }[] }[]
    ).find((s) => s.service === 'files')!;
    assert.equal(files.state, 'running');
    const url = files.ports.find((p) => p.url)?.url;
    assert.ok(url, JSON.stringify(files));
    assert.equal((await fetch(url)).status, 200);

    const status = JSON.parse(textOf(await mcp.client.callTool({ name: 'kyozo_status', arguments: {} })));
    assert.deepEqual(Object.fromEntries(status.map((s: { service: string; state: string }) => [s.service, s.state])), {
      api: 'not-deployed',
      files: 'running',
      web: 'not-deployed',
    });

    const logs = await mcp.client.callTool({ name: 'kyozo_logs', arguments: { service: 'files', tail: 50 } });
    assert.notEqual(logs.isError, true, textOf(logs));
    assert.ok(textOf(logs).length > 0);

    const stopped = await mcp.client.callTool({ name: 'kyozo_stop', arguments: { service: 'files' } });
    assert.deepEqual(JSON.parse(textOf(stopped)), [{ service: 'files', state: 'stopped' }]);
  });
});
