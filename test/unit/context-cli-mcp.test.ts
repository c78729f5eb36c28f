// `kyozo describe`, `kyozo context` and `kyozo mcp` from source: the commands' output and exit codes, and the MCP
// server driven by the SDK's real Client over stdio (tools listed and called, bad input, actions gated).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMcp, textOf, type McpSession } from '../support/mcp-client';

const REPO = join(__dirname, '..', '..');
const LAYOUT = join(REPO, 'test', 'fixtures', 'platform-layout');

function kyozo(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'server/src/cli/main.ts'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
}

test('kyozo describe prints a folder page, --json its description, --all every folder', () => {
  const page = kyozo(['describe', 'src/cartservice', '-C', LAYOUT]);
  assert.equal(page.status, 0, page.stderr);
  assert.match(page.stdout, /^src\/cartservice\/ {2}service/);
  assert.match(page.stdout, /grpc-method {5}platform\.CartService\/AddItem/);
  assert.match(page.stdout, /kubernetes {6}kubernetes-manifests\/cartservice\.yaml/);
  // One line per caller, with every kind of link to it.
  assert.match(page.stdout, /^ {2}checkout \(code-ref, env-url; src\/checkout\)$/m);
  const json = kyozo(['describe', 'protos', '-C', LAYOUT, '--json']);
  assert.equal(json.status, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).purpose.value, 'api-definitions');
  const all = kyozo(['describe', '--all', '-C', LAYOUT, '--json']);
  const folders = (JSON.parse(all.stdout) as { folder: string }[]).map((d) => d.folder);
  assert.ok(
    folders.includes('.') && folders.includes('helm-chart/templates') && folders.length > 30,
    folders.join(' '),
  );
});

test('kyozo describe and context refuse bad input with exit code 2 and what to pass', () => {
  const missing = kyozo(['describe', 'no-such-folder', '-C', LAYOUT]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no-such-folder is not a folder .*pass an existing folder/);
  const budget = kyozo(['context', LAYOUT, '--budget', 'lots']);
  assert.equal(budget.status, 2);
  assert.match(budget.stderr, /--budget expects a positive whole number of tokens, got 'lots'/);
  const root = kyozo(['context', join(LAYOUT, 'no-such-dir')]);
  assert.equal(root.status, 2);
  assert.match(root.stderr, /does not exist/);
});

test('kyozo context prints the repository map within its budget, --json with its token count', () => {
  const text = kyozo(['context', LAYOUT]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^# platform-layout: 5 services/);
  assert.match(text.stdout, /src\/: cartservice, checkout, frontend, notifier/);
  assert.match(text.stderr, /\d+ of 4000 tokens \(o200k_base\)/);
  const json = JSON.parse(kyozo(['context', LAYOUT, '--budget', '120', '--json']).stdout);
  assert.equal(json.budgetTokens, 120);
  assert.ok(json.tokens <= 120 || json.text.split('\n').length <= 4, `${json.tokens} tokens`);
  assert.ok(json.folders.omitted > 0);
});

let mcp: McpSession;
before(async () => {
  mcp = await startMcp(LAYOUT);
});
after(async () => {
  await mcp?.close();
});

test('kyozo mcp lists the read tools and resources, and no action tool without --allow-actions', async () => {
  const { tools } = await mcp.client.listTools();
  const names = tools.map((t) => t.name).sort();
  assert.deepEqual(names, [
    'kyozo_describe_folder',
    'kyozo_explain_service',
    'kyozo_find',
    'kyozo_related',
    'kyozo_status',
    'kyozo_topology',
  ]);
  const describe = tools.find((t) => t.name === 'kyozo_describe_folder')!;
  assert.deepEqual(describe.inputSchema.required, ['folder']);
  const { resources } = await mcp.client.listResources();
  assert.deepEqual(resources.map((r) => r.uri).sort(), ['kyozo://repo-map', 'kyozo://topology']);
  const gated = await mcp.client.callTool({ name: 'kyozo_deploy', arguments: {} });
  assert.equal(gated.isError, true);
  assert.match(textOf(gated), /kyozo_deploy not found/);
  assert.match(mcp.stderr(), /serving .*platform-layout \(5 services\)/);
});

test('kyozo mcp read tools answer from the engine', async () => {
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await mcp.client.callTool({ name, arguments: args });
    assert.notEqual(r.isError, true, `${name}: ${textOf(r)}`);
    return JSON.parse(textOf(r));
  };
  const topology = await call('kyozo_topology');
  assert.deepEqual(topology.services.map((s: { name: string }) => s.name).sort(), [
    'cartservice',
    'checkout',
    'frontend',
    'notifier',
    'terraform',
  ]);
  const cart = await call('kyozo_describe_folder', { folder: 'src/cartservice' });
  assert.equal(cart.purpose.value, 'service');
  const route = await call('kyozo_find', { route: 'GET /cart' });
  assert.deepEqual(
    route.matches.map((m: { service: string }) => m.service),
    ['frontend'],
  );
  const rpc = await call('kyozo_find', { route: 'CartService/AddItem' });
  assert.deepEqual(
    rpc.matches.map((m: { service: string }) => m.service),
    ['cartservice'],
  );
  const env = await call('kyozo_find', { env: 'REDIS_ADDR' });
  assert.deepEqual(
    env.matches.map((m: { service: string }) => m.service),
    ['cartservice'],
  );
  const talks = await call('kyozo_find', { talksTo: 'cartservice' });
  assert.deepEqual([...new Set(talks.calledBy.map((c: { service: string }) => c.service))].sort(), [
    'checkout',
    'frontend',
  ]);
  const owner = await call('kyozo_find', { file: 'src/frontend/genproto/demo.pb.go' });
  assert.deepEqual([owner.service, owner.purpose], ['frontend', 'generated']);
  const related = await call('kyozo_related', { folder: 'src/cartservice' });
  assert.ok(related.related.some((r: { folder: string }) => r.folder === 'protos'));
  const explained = await call('kyozo_explain_service', { service: 'checkout' });
  assert.match(explained.summary, /checkout is a python service/);
  const map = await mcp.client.readResource({ uri: 'kyozo://repo-map' });
  assert.match(String((map.contents[0] as { text: string }).text), /## Service details/);
  const topo = await mcp.client.readResource({ uri: 'kyozo://topology' });
  assert.equal(JSON.parse((topo.contents[0] as { text: string }).text).version, 1);
});

test('kyozo mcp answers bad input with an error that says why', async () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['kyozo_describe_folder', {}, /Input validation error.*folder/s],
    ['kyozo_describe_folder', { folder: 42 }, /Input validation error/],
    ['kyozo_describe_folder', { folder: '../../etc' }, /outside the workspace|not a folder/],
    ['kyozo_find', {}, /give exactly one of route, env, talksTo, file \(got 0\)/],
    ['kyozo_find', { route: '/x', env: 'Y' }, /got 2/],
    ['kyozo_find', { talksTo: 'nope' }, /no service 'nope'.*known: cartservice/],
    ['kyozo_find', { file: '/etc/passwd' }, /outside the workspace/],
    ['kyozo_explain_service', { service: '' }, /Input validation error/],
  ];
  for (const [name, args, reason] of cases) {
    const r = await mcp.client.callTool({ name, arguments: args });
    assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail`);
    assert.match(textOf(r), reason, `${name} ${JSON.stringify(args)}: ${textOf(r)}`);
  }
  // The server is still there after every refusal.
  assert.equal((await mcp.client.listTools()).tools.length, 6);
});

test('kyozo mcp --allow-actions adds deploy, stop and logs', async () => {
  const actions = await startMcp(LAYOUT, ['--allow-actions']);
  try {
    const names = (await actions.client.listTools()).tools.map((t) => t.name);
    for (const n of ['kyozo_deploy', 'kyozo_stop', 'kyozo_logs']) assert.ok(names.includes(n), names.join(', '));
    const bad = await actions.client.callTool({ name: 'kyozo_logs', arguments: { service: 'cartservice', tail: 0 } });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /Input validation error/);
  } finally {
    await actions.close();
  }
});

test('kyozo mcp follows file changes: a route added to a file is found by the next calls', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kyozo-mcp-watch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  cpSync(LAYOUT, root, { recursive: true });
  const session = await startMcp(root);
  t.after(() => session.close());
  const routes = async () => {
    const r = await session.client.callTool({ name: 'kyozo_find', arguments: { route: 'POST /checkout' } });
    return (JSON.parse(textOf(r)) as { matches: { service: string }[] }).matches.map((m) => m.service);
  };
  assert.deepEqual(await routes(), []);
  const main = join(root, 'src/frontend/main.go');
  writeFileSync(
    main,
    readFileSync(main, 'utf8').replace(
      'r.HandleFunc("/cart", h.addToCart).Methods(http.MethodPost)',
      'r.HandleFunc("/cart", h.addToCart).Methods(http.MethodPost)\n\tr.HandleFunc("/checkout", h.addToCart)',
    ),
  );
  // The watcher reports the write a moment later; bounded wait, then the answer must have changed.
  let found: string[] = [];
  for (let i = 0; i < 50 && !found.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    found = await routes();
  }
  assert.deepEqual(found, ['frontend']);
});
