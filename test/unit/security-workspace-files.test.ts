// A hostile repository must not read the host through Kyozo: links out of the workspace, FIFOs and devices put where
// Kyozo reads (compose build contexts, env_file, .env, Dockerfile, .dockerignore, manifests). Links and FIFOs cannot
// live in git, so every test builds its repository in a temp folder, beside an "outside" folder holding canaries.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import * as tar from 'tar-stream';
import { analyze } from '../../server/src/engine';
import { collectContext, contextTar } from '../../server/src/engine/deploy/build-context';
import { buildInputs } from '../../server/src/engine/deploy/image-builder';
import type { Topology } from '../../server/src/protocol';
import { service, topology as handMade } from '../support/docker-topology-builder';
import { startSession } from './lsp-harness';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const SSH_CANARY = 'CANARY-SSH-PRIVATE-KEY-6b1f0c';
const CRED_CANARY = 'CANARY-AWS-SECRET-93d2aa';
const PASSWD_LINE = readFileSync('/etc/passwd', 'utf8').split('\n')[0];
const evidence = { file: 'compose.yaml', reason: 'written by the test' };

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** `<tmp>/repo` (the workspace) beside `<tmp>/outside` (a fake ~/.ssh and a credentials file). */
function workspace(files: Record<string, string> = {}): { repo: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'kyozo-hostile-'));
  temps.push(base);
  const repo = join(base, 'repo');
  const outside = join(base, 'outside');
  mkdirSync(join(outside, 'ssh'), { recursive: true });
  writeFileSync(join(outside, 'ssh', 'id_rsa'), `-----BEGIN OPENSSH PRIVATE KEY-----\n${SSH_CANARY}\n`);
  writeFileSync(join(outside, 'ssh', 'Dockerfile'), 'FROM scratch\nCOPY . /keys\n');
  writeFileSync(join(outside, 'creds.env'), `AWS_SECRET_ACCESS_KEY=${CRED_CANARY}\n`);
  for (const [rel, text] of Object.entries({ ...files })) {
    mkdirSync(join(repo, rel, '..'), { recursive: true });
    writeFileSync(join(repo, rel), text);
  }
  mkdirSync(repo, { recursive: true });
  return { repo, outside };
}

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

const summary = (t: Topology) => t.problems.map((p) => `${p.code} ${p.file ?? ''}: ${p.message}`).join('\n');

/**
 * Runs `code` (CommonJS, engine modules through tsx) in a child process, so that a read that blocks on a FIFO or eats
 * memory reading a device ends in a bounded failure instead of taking the test process with it. The data limit (not
 * the address-space one, which WebAssembly's reservations exceed) stops an endless read at about 3 GB.
 */
function isolated(code: string, timeoutMs = 30_000) {
  const limited = ['-c', 'ulimit -d 3000000; exec "$0" "$@"'];
  return spawnSync('bash', [...limited, process.execPath, '--import', 'tsx', '-e', code], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
    env: { ...process.env, NO_COLOR: '1', KYOZO_STATE_DIR: mkdtempSync(join(tmpdir(), 'kyozo-state-')), ...env },
  });
}

describe('links out of the workspace', () => {
  test('a compose build.context linked to a folder outside is not built from; the deploy side refuses it', async () => {
    const { repo, outside } = workspace({ 'compose.yaml': 'services:\n  keys:\n    build: ./ctx\n' });
    symlinkSync(join(outside, 'ssh'), join(repo, 'ctx'));
    const topo = await analyze(repo);
    assert.ok(!JSON.stringify(topo).includes(SSH_CANARY));
    assert.ok(!topo.services.some((s) => s.build?.context === 'ctx'), 'the outside folder is not a build context');
    const p = topo.problems.find((x) => x.code === 'compose-build-outside' && x.file === 'compose.yaml');
    assert.ok(p, `expected a compose-build-outside problem, got:\n${summary(topo)}`);
    assert.match(p.message, /build context \.\/ctx of service keys resolves outside the workspace \(.*outside\/ssh\)/);

    // A topology that still names it (an older analysis, --topology) is refused before any tar is made.
    const t = handMade(repo, 'hostile', [service('keys', { folder: '.', build: { context: 'ctx', evidence } })]);
    assert.throws(() => buildInputs(t, t.services[0], {}), /build context ctx of keys resolves outside the workspace/);
    assert.throws(() => collectContext(join(repo, 'ctx'), { root: repo }), /resolves outside the workspace/);
  });

  test('an env_file linked to an outside secret is not read; the problem names it, not its content', async () => {
    const { repo, outside } = workspace({
      'compose.yaml': [
        'services:',
        '  api:',
        '    image: busybox',
        '    env_file: [app.env, conf/creds.env, ../outside/creds.env, shared.env]',
        '',
      ].join('\n'),
      'common/app.env': 'SHARED_VALUE=from-inside\n',
    });
    symlinkSync(join(outside, 'creds.env'), join(repo, 'app.env'));
    symlinkSync(outside, join(repo, 'conf')); // a linked folder: the file itself is no link
    symlinkSync('common/app.env', join(repo, 'shared.env')); // a link that stays inside is read as before
    const topo = await analyze(repo);
    const json = JSON.stringify(topo);
    assert.ok(!json.includes(CRED_CANARY), `the outside secret reached the topology:\n${json}`);
    const api = topo.services.find((s) => s.name === 'api')!;
    const shared = api.env.find((e) => e.name === 'SHARED_VALUE');
    assert.equal(shared?.value, 'from-inside', 'a link that stays inside is still read');
    for (const file of ['app.env', 'conf/creds.env']) {
      const p = topo.problems.find((x) => x.file === file && x.code === 'outside-workspace');
      assert.ok(p, `expected an outside-workspace problem for ${file}, got:\n${summary(topo)}`);
      assert.match(p.message, /resolves outside the workspace \(.*outside\/creds\.env\); Kyozo reads only files/);
    }
    assert.ok(
      topo.problems.some((x) => x.code === 'compose-env-file' && /\.\.\/outside\/creds\.env/.test(x.message)),
      `expected a problem for the env_file written outside, got:\n${summary(topo)}`,
    );
  });

  test('Dockerfile -> /etc/passwd is not parsed into problems, built, or printed by kyozo dockerfile', async (t) => {
    const { repo } = workspace({
      'compose.yaml': 'services:\n  web:\n    build: { context: ., dockerfile: Dockerfile }\n',
      'app/server.js': 'require("http").createServer().listen(3000)\n',
    });
    symlinkSync('/etc/passwd', join(repo, 'Dockerfile'));
    const topo = await analyze(repo);
    assert.ok(!JSON.stringify(topo).includes(PASSWD_LINE), `the host file reached the topology:\n${summary(topo)}`);
    const p = topo.problems.find((x) => x.file === 'Dockerfile' && x.code === 'outside-workspace');
    assert.ok(p, `expected an outside-workspace problem for the Dockerfile, got:\n${summary(topo)}`);
    assert.match(p.message, /Dockerfile resolves outside the workspace \(\/etc\/passwd\)/);

    const build = (context: string) => ({ context, dockerfile: 'Dockerfile', evidence });
    const inContext = handMade(repo, 'h', [service('web', { folder: '.', build: build('') })]);
    const passwd = /Dockerfile.*outside the workspace \(\/etc\/passwd\)/;
    assert.throws(() => buildInputs(inContext, inContext.services[0], {}), passwd);
    const elsewhere = handMade(repo, 'h', [service('app', { build: build('app') })]);
    assert.throws(
      () => buildInputs(elsewhere, elsewhere.services[0], {}),
      (e: Error) => {
        assert.match(e.message, /Dockerfile.*resolves outside the workspace \(\/etc\/passwd\)/);
        assert.ok(!e.message.includes(PASSWD_LINE));
        return true;
      },
    );

    if (!existsSync(CLI)) return t.skip('dist/cli.js is missing: run `npm run build` first');
    const r = cli(['dockerfile', 'web', '-d', repo]);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWD_LINE), `kyozo dockerfile printed the host file:\n${r.stdout}`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Dockerfile .*resolves outside the workspace \(\/etc\/passwd\)/);
  });

  test('.env -> /proc/self/environ puts none of the process environment into the topology', async (t) => {
    if (!existsSync(CLI)) return t.skip('dist/cli.js is missing: run `npm run build` first');
    const { repo } = workspace({
      'compose.yaml': [
        'services:',
        '  api:',
        '    image: busybox',
        '    env_file: .env',
        '    environment:',
        '      HOME_DIR: ${HOME:-none}',
        '',
      ].join('\n'),
    });
    symlinkSync('/proc/self/environ', join(repo, '.env'));
    const canary = 'CANARY-PROCESS-ENV-5e7a41';
    const r = cli(['analyze', repo, '--json'], { KYOZO_SECURITY_CANARY: canary });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes(canary), 'the environment of kyozo itself reached the topology');
    const topo = JSON.parse(r.stdout) as Topology;
    assert.ok(
      topo.problems.some((p) => p.file === '.env' && p.code === 'outside-workspace'),
      summary(topo),
    );
  });
});

describe('FIFOs and devices', () => {
  test('kyozo analyze finishes on FIFOs named as env_file, .dockerignore, Dockerfile and package.json', (t) => {
    if (!existsSync(CLI)) return t.skip('dist/cli.js is missing: run `npm run build` first');
    const { repo } = workspace({
      'compose.yaml': 'services:\n  api:\n    build: ./svc\n    env_file: app.env\n',
      'svc/server.py': 'print(1)\n',
      'node/index.js': 'console.log(1)\n',
    });
    for (const rel of ['app.env', 'svc/.dockerignore', 'svc/Dockerfile', 'node/package.json']) mkfifo(join(repo, rel));
    const r = cli(['analyze', repo, '--json']);
    assert.notEqual(r.signal, 'SIGTERM', 'kyozo analyze hung on a FIFO');
    assert.equal(r.status, 0, r.stderr);
    const topo = JSON.parse(r.stdout) as Topology;
    for (const file of ['app.env', 'svc/.dockerignore', 'svc/Dockerfile', 'node/package.json']) {
      const p = topo.problems.find((x) => x.file === file && x.code === 'not-a-regular-file');
      assert.ok(p, `expected a not-a-regular-file problem for ${file}, got:\n${summary(topo)}`);
      assert.match(p.message, /FIFO/);
    }
  });

  test('FIFO .dockerignore or Dockerfile, .dockerignore -> /dev/zero: clear errors, not a hang or a crash', () => {
    const { repo } = workspace({ 'fifo/index.js': '', 'zero/index.js': '', 'dockerfile/index.js': '' });
    mkfifo(join(repo, 'fifo', '.dockerignore'));
    symlinkSync('/dev/zero', join(repo, 'zero', '.dockerignore'));
    mkfifo(join(repo, 'dockerfile', 'Dockerfile'));
    const run = (code: string) => {
      const r = isolated(`
        const { collectContext } = require('./server/src/engine/deploy/build-context');
        const { buildInputs } = require('./server/src/engine/deploy/image-builder');
        const root = ${JSON.stringify(repo)};
        try { ${code}; console.log('no error'); } catch (e) { console.log('error: ' + e.message); }
      `);
      assert.equal(r.signal, null, `killed by ${r.signal}: the read hung or grew without bound`);
      assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr.slice(-2000)}`);
      return r.stdout.trim();
    };
    assert.match(
      run(`collectContext(root + '/fifo', { root })`),
      /^error: \.dockerignore of build context fifo is a FIFO \(named pipe\), not a regular file/,
    );
    assert.match(
      run(`collectContext(root + '/zero', { root })`),
      /^error: \.dockerignore of build context zero resolves outside the workspace \(\/dev\/zero\)/,
    );
    const service = { id: 'dockerfile', build: { context: 'dockerfile', dockerfile: 'dockerfile/Dockerfile' } };
    assert.match(
      run(`buildInputs({ root }, ${JSON.stringify(service)}, {})`),
      /^error: Dockerfile dockerfile\/Dockerfile of dockerfile is a FIFO \(named pipe\), not a regular file/,
    );
  });

  test('the language server answers initialize and a hover on a workspace whose env_file is a FIFO', async () => {
    const s = await startSession('deploy-stack', {
      files: { 'compose.yaml': 'services:\n  api:\n    build: ./api\n    env_file: api/app.env\n' },
      prepare: (folder) => mkfifo(join(folder, 'api', 'app.env')),
    });
    try {
      const text = readFileSync(join(s.folder, 'api/package.json'), 'utf8');
      await s.open('api/package.json', text, 'json');
      const h = await s.connection.sendRequest<Hover | null>('textDocument/hover', {
        textDocument: { uri: s.uri('api/package.json') },
        position: { line: 1, character: 4 },
      });
      assert.match(h ? (h.contents as MarkupContent).value : '', /\*\*api\*\*/);
      const topo = s.topologies.at(-1)!.topology;
      assert.ok(
        topo.problems.some((p) => p.file === 'api/app.env' && p.code === 'not-a-regular-file'),
        summary(topo),
      );
    } finally {
      await s.close();
    }
  });
});

describe('build contexts', () => {
  test('a symlink inside a build context stays a symlink in the tar and never pulls in its target', async () => {
    const { repo, outside } = workspace({ 'svc/server.js': 'console.log(1)\n' });
    symlinkSync(join(outside, 'ssh', 'id_rsa'), join(repo, 'svc', 'key'));
    symlinkSync('server.js', join(repo, 'svc', 'main.js'));
    const ctx = collectContext(join(repo, 'svc'), { root: repo });
    const extract = tar.extract();
    const entries: { name: string; type: string; linkname?: string | null; body: string }[] = [];
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        entries.push({ name: header.name, type: header.type ?? 'file', linkname: header.linkname, body });
        next();
      });
    });
    const done = new Promise<void>((resolve) => extract.on('finish', () => resolve()));
    contextTar(ctx).pipe(extract as unknown as NodeJS.WritableStream);
    await done;
    const link = (name: string, linkname: string) => ({ name, type: 'symlink', linkname, body: '' });
    assert.deepEqual(
      entries.find((e) => e.name === 'key'),
      link('key', join(outside, 'ssh', 'id_rsa')),
    );
    assert.deepEqual(
      entries.find((e) => e.name === 'main.js'),
      link('main.js', 'server.js'),
    );
    assert.ok(!entries.some((e) => e.body.includes(SSH_CANARY)));
  });
});
