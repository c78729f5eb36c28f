// Health checks at scale and the status path, without an engine: a health command given without an interval runs
// every 10 s after a start period (in containers and in the exported compose file), never every 2 s; `--parallel`
// refuses what is not a whole number from 1 to 64.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { exportCompose } from '../../server/src/engine/compose/compose-export';
import { containerSpec } from '../../server/src/engine/deploy/container-spec';
import { port, service, topology } from '../support/docker-topology-builder';

const repo = join(import.meta.dirname, '..', '..');
const evidence = { file: 'compose.yaml', reason: 'test' };
const db = service('compose.yaml#db', {
  type: 'database',
  image: 'kyozo-test/busybox:1',
  ports: [port(5432)],
  healthCheck: { kind: 'command', command: ['pg_isready'], evidence },
});
const topo = topology('/w', 'w', [db]);

describe('health commands at scale', () => {
  test('a container health command without an interval runs every 10 s after a start period', () => {
    const spec = containerSpec(
      { topology: topo, project: 'w', network: 'w_default' },
      db,
      { image: 'sha256:1', imageUser: '', replica: 1, ports: [], env: {}, mounts: [], deployment: 'd' },
      { memoryMb: 64, cpus: 0.5 },
    );
    const hc = spec.options.Healthcheck!;
    assert.equal(hc.Interval, 10e9);
    assert.ok((hc.StartPeriod ?? 0) >= 10e9, `start period ${hc.StartPeriod}`);
  });

  test('an interval written down is kept', () => {
    const fast = { ...db, healthCheck: { ...db.healthCheck!, intervalSeconds: 3 } };
    const spec = containerSpec(
      { topology: topo, project: 'w', network: 'w_default' },
      fast,
      { image: 'sha256:1', imageUser: '', replica: 1, ports: [], env: {}, mounts: [], deployment: 'd' },
      { memoryMb: 64, cpus: 0.5 },
    );
    assert.equal(spec.options.Healthcheck!.Interval, 3e9);
  });

  test('the exported compose file checks every 10 s with a start period', () => {
    const out = parse(exportCompose(topo, { outputDir: '/w' }).yaml) as {
      services: Record<string, { healthcheck?: Record<string, unknown> }>;
    };
    const hc = out.services.db!.healthcheck!;
    assert.equal(hc.interval, '10s');
    assert.ok(typeof hc.start_period === 'string' && parseInt(hc.start_period, 10) >= 10, JSON.stringify(hc));
  });
});

describe('kyozo up --parallel', () => {
  test('refuses 0 and fractions with what it expects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyozo-parallel-'));
    const file = join(dir, 'topology.json');
    writeFileSync(file, JSON.stringify(topo));
    for (const bad of ['0', '2.5']) {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), 'up', '--topology', file, '--parallel', bad],
        { cwd: repo, encoding: 'utf8', env: { ...process.env, KYOZO_STATE_DIR: join(dir, 'state'), NO_COLOR: '1' } },
      );
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--parallel expects a whole number from 1 to 64, got '${bad}'`));
    }
  });
});
