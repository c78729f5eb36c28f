// Hostile trees (symlink loops, unreadable folders, huge files), the `kyozo analyze` CLI, and incremental updates.
// Symlinks and unreadable folders cannot live in git, so each test builds them in a temp copy of a fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, createAnalyzer } from '../../server/src/engine';
import type { Topology } from '../../server/src/protocol';
import { copyFixture, FIXTURES, stable } from '../support/fixture-expect';

const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const NODE_APIS = ['bun-api', 'express-api', 'fastify-api', 'koa-api', 'nest-api'];

const ids = (t: Topology) => t.services.map((s) => s.id).sort();
const problemSummary = (t: Topology) => t.problems.map((p) => `${p.code} ${p.file ?? ''}:${p.line ?? ''}`).join('; ');

/** Order-insensitive view of a topology: two analyses of the same tree must be equal under it. */
function canonical(t: Topology) {
  // JSON round trip: a key holding `undefined` in memory is simply absent from the CLI's JSON.
  const s = stable(JSON.parse(JSON.stringify(t)) as Topology);
  const byJson = <T>(xs: T[]) => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    ...s,
    services: [...s.services].sort((a, b) => a.id.localeCompare(b.id)),
    edges: byJson(s.edges),
    problems: byJson(s.problems),
    recommendations: byJson(s.recommendations),
    patterns: byJson(s.patterns),
    groups: byJson(s.groups),
    libraries: byJson(s.libraries),
  };
}

test('a symlink loop becomes a symlink-loop problem, not a crash or a hang', async () => {
  const { dir, cleanup } = copyFixture('node-apis');
  try {
    symlinkSync('..', join(dir, 'express-api', 'up')); // a folder linking to its parent
    symlinkSync('loop-b', join(dir, 'loop-a')); // two links pointing at each other
    symlinkSync('loop-a', join(dir, 'loop-b'));
    const topo = await analyze(dir);
    assert.deepEqual(ids(topo), NODE_APIS, 'the services around the loop are still found');
    assert.ok(
      topo.problems.some((p) => p.code === 'symlink-loop'),
      `expected a symlink-loop problem, got: ${problemSummary(topo)}`,
    );
  } finally {
    cleanup();
  }
});

test('an unreadable folder becomes an unreadable problem and the rest is analysed', async (t) => {
  if (process.getuid?.() === 0) {
    // root reads every folder, so the analysis runs as `nobody`, which must be able to read this checkout
    const probe = spawnSync(
      process.execPath,
      ['-e', `require('node:fs').accessSync(${JSON.stringify(join(REPO, 'package.json'))})`],
      { uid: 65534, gid: 65534 },
    );
    if (probe.status !== 0)
      return t.skip(`running as root and ${REPO} is not readable by nobody: cannot test an unreadable folder here`);
  }
  const { dir, cleanup } = copyFixture('node-apis');
  try {
    mkdirSync(join(dir, 'koa-api', 'secrets'));
    writeFileSync(join(dir, 'koa-api', 'secrets', 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');
    chmodSync(join(dir, 'koa-api', 'secrets'), 0o000);
    let topo: Topology;
    if (process.getuid?.() === 0) {
      // root reads every folder: analyse as the unprivileged `nobody` user in a child process.
      chmodSync(dir, 0o755);
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(REPO, 'test', 'support', 'fixture-analyze-child.ts'), dir],
        {
          cwd: REPO,
          uid: 65534,
          gid: 65534,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, HOME: '/tmp' },
        },
      );
      assert.equal(child.status, 0, `analysis as nobody failed: ${child.stderr}`);
      topo = JSON.parse(child.stdout) as Topology;
    } else {
      topo = await analyze(dir);
    }
    assert.deepEqual(ids(topo), NODE_APIS);
    const p = topo.problems.find((x) => x.code === 'unreadable');
    assert.ok(p, `expected an unreadable problem, got: ${problemSummary(topo)}`);
    assert.equal(p.file, 'koa-api/secrets');
  } finally {
    chmodSync(join(dir, 'koa-api', 'secrets'), 0o755);
    cleanup();
  }
});

test('a huge manifest becomes a file-too-large problem and the rest is analysed', async () => {
  const { dir, cleanup } = copyFixture('node-apis');
  try {
    mkdirSync(join(dir, 'big'));
    const filler = 'x'.repeat(3 * 1024 * 1024); // 3 MiB, far over the 512 KiB read cap
    writeFileSync(
      join(dir, 'big', 'package.json'),
      JSON.stringify({ name: 'big', description: filler, scripts: { start: 'node i.js' } }),
    );
    const topo = await analyze(dir);
    for (const id of NODE_APIS) assert.ok(ids(topo).includes(id), `${id} still detected`);
    const p = topo.problems.find((x) => x.code === 'file-too-large');
    assert.ok(p, `expected a file-too-large problem, got: ${problemSummary(topo)}`);
    assert.equal(p.file, 'big/package.json');
  } finally {
    cleanup();
  }
});

test('kyozo analyze on a missing path exits 2 with a one-line reason', (t) => {
  if (!existsSync(CLI)) return t.skip('dist/cli.js is missing: run `npm run build` first');
  for (const target of ['/nonexistent-kyozo-path', join(FIXTURES, 'static-site', 'index.html')]) {
    const r = spawnSync(process.execPath, [CLI, 'analyze', target], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, `exit code for ${target} (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert.ok(lines[0].includes(target), `the reason names the path: ${lines[0]}`);
  }
});

test('kyozo analyze --json prints the same Topology as analyze()', async (t) => {
  if (!existsSync(CLI)) return t.skip('dist/cli.js is missing: run `npm run build` first');
  const dir = join(FIXTURES, 'compose-stack');
  const r = spawnSync(process.execPath, [CLI, 'analyze', dir, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  const fromCli = JSON.parse(r.stdout) as Topology;
  assert.deepEqual(canonical(fromCli), canonical(await analyze(dir)));
});

test('kyozo analyze prints a readable table with every service', (t) => {
  if (!existsSync(CLI)) return t.skip('dist/cli.js is missing: run `npm run build` first');
  const r = spawnSync(process.execPath, [CLI, 'analyze', join(FIXTURES, 'nginx-gateway')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  for (const word of ['gateway', 'api', 'auth', 'proxy', 'nodejs', 'python', '3000', '8000', '80']) {
    assert.ok(r.stdout.includes(word), `table mentions ${word}:\n${r.stdout}`);
  }
});

test('update() after editing, adding and deleting returns the new topology and what changed', async () => {
  const { dir, cleanup } = copyFixture('dockerfile-variants');
  try {
    const analyzer = createAnalyzer({ root: dir });
    const first = await analyzer.analyze();
    assert.deepEqual(ids(first), ['api', 'app', 'args', 'devbox', 'dns', 'legacy', 'tools']);
    assert.equal(analyzer.current(), first);

    // 1. change a port in a Dockerfile
    const dockerfile = join(dir, 'app', 'Dockerfile');
    writeFileSync(dockerfile, readFileSync(dockerfile, 'utf8').replace('EXPOSE 3000', 'EXPOSE 3456'));
    const edited = await analyzer.update(['app/Dockerfile']);
    const app = edited.topology.services.find((s) => s.id === 'app');
    assert.equal(app?.ports[0]?.container, 3456);
    assert.equal(app?.ports[0]?.source, 'dockerfile');
    assert.deepEqual(edited.change.added, []);
    assert.deepEqual(edited.change.removed, []);
    assert.deepEqual(edited.change.changed, ['app']);
    assert.ok(edited.change.reanalysed.includes('app'), `reanalysed: ${edited.change.reanalysed.join(', ')}`);
    assert.ok(!edited.change.reanalysed.includes('api'), 'an untouched folder is not re-analysed');
    assert.deepEqual(
      canonical(edited.topology),
      canonical(await analyze(dir)),
      'incremental result equals a cold analysis',
    );

    // 2. add a new service folder (absolute paths are accepted too)
    mkdirSync(join(dir, 'billing'));
    writeFileSync(
      join(dir, 'billing', 'package.json'),
      JSON.stringify(
        {
          name: 'billing',
          private: true,
          scripts: { start: 'node index.js' },
          dependencies: { express: '^4.19.2' },
        },
        null,
        2,
      ),
    );
    writeFileSync(join(dir, 'billing', 'index.js'), "const app = require('express')();\napp.listen(4100);\n");
    const added = await analyzer.update([join(dir, 'billing', 'package.json'), join(dir, 'billing', 'index.js')]);
    assert.deepEqual(added.change.added, ['billing']);
    assert.deepEqual(added.change.removed, []);
    assert.ok(added.change.reanalysed.includes('billing'));
    const billing = added.topology.services.find((s) => s.id === 'billing');
    assert.equal(billing?.type, 'nodejs');
    assert.equal(billing?.ports[0]?.container, 4100);
    assert.deepEqual(canonical(added.topology), canonical(await analyze(dir)));

    // 3. delete a service folder
    const toolsFiles = ['tools/Dockerfile', 'tools/index.js', 'tools/package.json', 'tools/package-lock.json'];
    rmSync(join(dir, 'tools'), { recursive: true });
    const removed = await analyzer.update(['tools', ...toolsFiles]);
    assert.deepEqual(removed.change.removed, ['tools']);
    assert.deepEqual(removed.change.added, []);
    assert.deepEqual(ids(removed.topology), ['api', 'app', 'args', 'billing', 'devbox', 'dns', 'legacy']);
    assert.ok(
      !removed.topology.recommendations.some((r) => r.serviceId === 'tools'),
      'recommendations of a deleted service go too',
    );
    assert.deepEqual(canonical(removed.topology), canonical(await analyze(dir)));
    assert.equal(analyzer.current(), removed.topology);
  } finally {
    cleanup();
  }
});

test('update() of a compose file re-links edges across folders', async () => {
  const { dir, cleanup } = copyFixture('compose-stack');
  try {
    const analyzer = createAnalyzer({ root: dir });
    await analyzer.analyze();
    const override = join(dir, 'compose.override.yaml');
    writeFileSync(override, readFileSync(override, 'utf8').replace('    depends_on:\n      - cache\n', ''));
    const r = await analyzer.update(['compose.override.yaml']);
    assert.ok(
      !r.topology.edges.some((e) => e.from === 'worker' && e.to === 'compose.yaml#cache' && e.kind === 'compose'),
      'the depends_on edge that only the override declared is gone',
    );
    assert.ok(r.change.changed.includes('worker'), `changed: ${r.change.changed.join(', ')}`);
    assert.deepEqual(canonical(r.topology), canonical(await analyze(dir)));
  } finally {
    cleanup();
  }
});

test('kyozo explain prints the evidence behind every field of a service', (t) => {
  if (!existsSync(CLI)) return t.skip('dist/cli.js is missing: run `npm run build` first');
  const dir = join(FIXTURES, 'nginx-gateway');
  const r = spawnSync(process.execPath, [CLI, 'explain', 'api', '-C', dir], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  for (const fact of [
    'api/Dockerfile:6',
    'EXPOSE 3000',
    'api/package.json',
    'express',
    '/healthz',
    'api/index.js:4',
    'gateway/nginx.conf:',
  ]) {
    assert.ok(r.stdout.includes(fact), `explain mentions ${fact}:\n${r.stdout}`);
  }
  const json = spawnSync(process.execPath, [CLI, 'explain', 'gateway', '-C', dir, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as unknown;
  assert.ok(
    JSON.stringify(parsed).includes('gateway/nginx.conf'),
    'the JSON explanation carries the nginx.conf evidence',
  );
});

test('update() after a .gitignore edit brings a formerly ignored service in', async () => {
  const { dir, cleanup } = copyFixture('gitignore-nesting');
  try {
    const analyzer = createAnalyzer({ root: dir });
    assert.deepEqual(ids(await analyzer.analyze()), ['api', 'api/admin', 'web']);
    const gitignore = join(dir, '.gitignore');
    writeFileSync(gitignore, readFileSync(gitignore, 'utf8').replace('sandbox/\n', ''));
    const r = await analyzer.update(['.gitignore']);
    assert.deepEqual(r.change.added, ['sandbox']);
    assert.deepEqual(ids(r.topology), ['api', 'api/admin', 'sandbox', 'web']);
    assert.deepEqual(canonical(r.topology), canonical(await analyze(dir)));
  } finally {
    cleanup();
  }
});

test('update() after a kyozo.yaml edit applies the new override', async () => {
  const { dir, cleanup } = copyFixture('kyozo-overrides');
  try {
    const analyzer = createAnalyzer({ root: dir });
    await analyzer.analyze();
    const manifest = join(dir, 'api', 'kyozo.yaml');
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace('port: 9000', 'port: 9100').replace('replicas: 2', 'replicas: 3'),
    );
    const r = await analyzer.update([manifest]);
    const api = r.topology.services.find((s) => s.id === 'api');
    assert.equal(api?.ports[0]?.container, 9100);
    assert.equal(api?.ports[0]?.source, 'kyozo.yaml');
    assert.equal(api?.replicas, 3);
    assert.deepEqual(r.change.changed, ['api']);
    assert.deepEqual(canonical(r.topology), canonical(await analyze(dir)));
  } finally {
    cleanup();
  }
});

test('update() with paths that do not exist or lie outside the root changes nothing and does not throw', async () => {
  const { dir, cleanup } = copyFixture('node-apis');
  try {
    const analyzer = createAnalyzer({ root: dir });
    const before = await analyzer.analyze();
    const r = await analyzer.update(['no/such/file.js', '/etc/hostname', join(dir, '..', 'elsewhere.txt')]);
    assert.deepEqual(r.change.added, []);
    assert.deepEqual(r.change.removed, []);
    assert.deepEqual(r.change.changed, []);
    assert.deepEqual(canonical(r.topology), canonical(before));
  } finally {
    cleanup();
  }
});

test('two analyses of the same tree give byte-identical JSON apart from timing', async () => {
  for (const name of ['monorepo-polyglot', 'compose-stack']) {
    const a = JSON.stringify(stable(await analyze(join(FIXTURES, name))));
    const b = JSON.stringify(stable(await createAnalyzer({ root: join(FIXTURES, name) }).analyze()));
    assert.equal(a, b, `${name}: output is not deterministic`);
  }
});

test('update() across folders in a monorepo always equals a cold analysis', async () => {
  const { dir, cleanup } = copyFixture('monorepo-polyglot');
  const edit = (rel: string, from: string | RegExp, to: string) => {
    const p = join(dir, rel);
    const before = readFileSync(p, 'utf8');
    const after = before.replace(from, to);
    assert.notEqual(after, before, `edit of ${rel} changed nothing`);
    writeFileSync(p, after);
  };
  try {
    const analyzer = createAnalyzer({ root: dir });
    await analyzer.analyze();

    // 1. an env URL disappears: only the api's edge to users goes
    edit('apps/api/.env', 'USERS_URL=http://users:8001\n', '');
    let r = await analyzer.update(['apps/api/.env']);
    assert.ok(
      !r.topology.edges.some((e) => e.from === 'apps/api' && e.to === 'services/users' && e.kind === 'env-url'),
    );
    assert.deepEqual(canonical(r.topology), canonical(await analyze(dir)), 'after removing an env URL');

    // 2. a library starts something: it becomes a service and leaves `libraries`
    edit(
      'packages/ui/package.json',
      '"private": true,',
      '"private": true,\n  "scripts": { "start": "node server.js" },',
    );
    writeFileSync(
      join(dir, 'packages/ui/server.js'),
      "require('node:http').createServer((_q, s) => s.end('ui')).listen(6006);\n",
    );
    r = await analyzer.update(['packages/ui/package.json', 'packages/ui/server.js']);
    assert.deepEqual(r.change.added, ['packages/ui']);
    assert.ok(!r.topology.libraries.some((l) => l.id === 'packages/ui'));
    assert.deepEqual(canonical(r.topology), canonical(await analyze(dir)), 'after a library became a service');

    // 3. an image service is renamed in compose: ids change and the driver edge follows
    edit('docker-compose.yml', '  redis:\n', '  cache:\n');
    r = await analyzer.update(['docker-compose.yml']);
    assert.deepEqual(r.change.added, ['docker-compose.yml#cache']);
    assert.deepEqual(r.change.removed, ['docker-compose.yml#redis']);
    assert.ok(
      r.topology.edges.some(
        (e) => e.from === 'services/notifier' && e.to === 'docker-compose.yml#cache' && e.kind === 'driver',
      ),
    );
    assert.deepEqual(canonical(r.topology), canonical(await analyze(dir)), 'after renaming a compose service');

    // 4. the workspace definition changes
    edit('pnpm-workspace.yaml', '  - "services/notifier"\n', '');
    r = await analyzer.update(['pnpm-workspace.yaml']);
    assert.deepEqual(canonical(r.topology), canonical(await analyze(dir)), 'after editing pnpm-workspace.yaml');
  } finally {
    cleanup();
  }
});
