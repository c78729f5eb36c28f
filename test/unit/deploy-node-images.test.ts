// Generated Node.js images on real project folders: what detection reports (start, port, build context) is what
// the generated Dockerfile builds and runs. The projects in test/realworld/ come from the frameworks' own create
// tools; the others are written to a temporary folder by each test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import type { Service } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { BuildError, generateDockerfile } from '../../server/src/engine/deploy/index';
import { collectContext, GENERATED_CONTEXT_IGNORES } from '../../server/src/engine/deploy/build-context';

const realworld = join(import.meta.dirname, '..', 'realworld');
const fixtures = join(import.meta.dirname, '..', 'fixtures');

async function only(dir: string, id = '.'): Promise<Service> {
  const topology = await analyze(dir);
  const svc = topology.services.find((s) => s.id === id);
  assert.ok(svc, `${id} in ${dir}: ${topology.services.map((s) => s.id).join(', ')}`);
  return svc;
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-node-image-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** The stage the container runs: everything after the last FROM. */
function runStage(dockerfile: string): string {
  return dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
}

/** The port the image's command listens on: the static server's --listen, else the PORT the image sets. */
function listenPort(dockerfile: string): number | undefined {
  const stage = runStage(dockerfile);
  const listen = /"--listen","tcp:\/\/0\.0\.0\.0:(\d+)"/.exec(stage)?.[1] ?? /^ENV .*\bPORT=(\d+)/m.exec(stage)?.[1];
  return listen ? Number(listen) : undefined;
}

describe('generated Node.js images', () => {
  test('a Vite SPA is built, then served by a static server with index.html fallback, not its dev server', async () => {
    const svc = await only(join(realworld, 'vite-react'));
    assert.equal(svc.start?.source, 'framework-default');
    assert.doesNotMatch(svc.start?.command ?? '', /\bdev\b|vite/);
    const text = generateDockerfile(svc);
    assert.match(text, /^RUN npm ci --no-audit --no-fund$|npm ci --no-audit --no-fund/m, 'installs from the lockfile');
    assert.match(text, /^RUN npm run build$/m);
    const run = runStage(text);
    assert.match(run, /"--single"/, 'unknown routes get index.html');
    assert.match(run, /^COPY --from=build \/app\/dist \/app\/dist$/m, 'only the built files reach the run-time image');
    assert.doesNotMatch(run, /COPY --chown=10001:10001 --from=build \/app \/app|node_modules(?!\/serve)/);
    assert.doesNotMatch(text, /npm run dev|vite preview/);
    assert.match(run, /^USER 10001:10001$/m);
    assert.equal(listenPort(text), svc.ports[0]?.container);
  });

  test('the detected port is the port the generated image listens on, for each project in test/realworld', async () => {
    const manifest = JSON.parse(readFileSync(join(realworld, 'manifest.json'), 'utf8')) as {
      apps: { dir: string; service: string }[];
    };
    for (const { dir, service: id } of manifest.apps) {
      const svc = await only(join(realworld, dir), id);
      const text = generateDockerfile(svc);
      assert.equal(listenPort(text), svc.ports[0]?.container, `${dir}: ${svc.ports.map((p) => p.container)}\n${text}`);
      assert.match(text, new RegExp(`^EXPOSE ${svc.ports[0]!.container}$`, 'm'), dir);
      assert.match(runStage(text), /^USER 10001:10001$/m, dir);
    }
  });

  test('a static Astro site is served as files; Astro with the node adapter runs its standalone server', async () => {
    const site = await only(join(realworld, 'astro-site'));
    const siteRun = runStage(generateDockerfile(site));
    assert.match(siteRun, /"--listen","tcp:\/\/0\.0\.0\.0:4321","dist"\]$/m);
    assert.doesNotMatch(siteRun, /--single/, 'a static site answers unknown paths with its 404, not its home page');
    const ssr = await only(
      project({
        'package.json': JSON.stringify({
          name: 'ssr',
          type: 'module',
          scripts: { dev: 'astro dev', build: 'astro build', preview: 'astro preview' },
          dependencies: { astro: '^5.9.4', '@astrojs/node': '^9.2.2' },
        }),
        'package-lock.json': '{}',
        'astro.config.mjs':
          "import node from '@astrojs/node';\n" +
          "export default { output: 'server', adapter: node({ mode: 'standalone' }) };\n",
      }),
    );
    assert.deepEqual(ssr.start?.argv, ['node', './dist/server/entry.mjs']);
    assert.equal(ssr.ports[0]?.container, 4321);
    const text = generateDockerfile(ssr);
    assert.match(runStage(text), /^ENV HOST=0\.0\.0\.0 PORT=4321$/m, 'Astro binds localhost unless HOST says not to');
    assert.match(text, /^RUN npm prune --omit=dev --no-audit --no-fund$/m, 'dev dependencies are absent at run time');
  });

  test('Next.js with output: standalone runs server.js from the standalone output, with HOSTNAME set', async () => {
    const svc = await only(join(fixtures, 'monorepo-polyglot'), 'apps/web');
    assert.deepEqual(svc.start?.argv, ['node', 'server.js']);
    assert.equal(svc.build?.context, '', 'a pnpm workspace member builds from the workspace root');
    const text = generateDockerfile(svc);
    assert.match(text, /^COPY --chown=10001:10001 --from=build \/app\/apps\/web\/\.next\/standalone \.\/$/m);
    assert.match(text, /^WORKDIR \/app\/apps\/web$/m);
    assert.match(text, /HOSTNAME=0\.0\.0\.0/);
    assert.match(text, /pnpm install --frozen-lockfile/);
  });

  test('a workspace member builds from the workspace root and runs alone; a root starting it is none', async () => {
    const topology = await analyze(join(realworld, 'npm-workspace'));
    assert.deepEqual(
      topology.services.map((s) => s.id),
      ['apps/web'],
    );
    const web = topology.services[0]!;
    assert.equal(web.build?.context, '');
    assert.equal(web.build?.node?.member, 'apps/web');
    const text = generateDockerfile(web);
    assert.match(text, /^COPY \. \.\nRUN .*npm ci/m, 'one install at the root, with every member linked');
    assert.match(runStage(text), /^WORKDIR \/app\/apps\/web$/m);
  });

  test('SvelteKit (adapter-node), Nuxt and NestJS run their production servers, not their dev servers', async () => {
    const dir = project({
      'kit/package.json': JSON.stringify({
        name: 'kit',
        type: 'module',
        scripts: { dev: 'vite dev', build: 'vite build', preview: 'vite preview' },
        devDependencies: { '@sveltejs/kit': '^2', '@sveltejs/adapter-node': '^5', vite: '^6', svelte: '^5' },
      }),
      'nuxt/package.json': JSON.stringify({
        name: 'nuxt-app',
        type: 'module',
        scripts: { build: 'nuxt build', dev: 'nuxt dev', preview: 'nuxt preview' },
        dependencies: { nuxt: '^3', vue: '^3' },
      }),
    });
    const kit = await only(dir, 'kit');
    assert.deepEqual([kit.start?.argv, kit.ports[0]?.container], [['node', 'build'], 3000]);
    const nuxt = await only(dir, 'nuxt');
    assert.deepEqual([nuxt.start?.argv, nuxt.ports[0]?.container], [['node', '.output/server/index.mjs'], 3000]);
    for (const svc of [kit, nuxt]) assert.equal(listenPort(generateDockerfile(svc)), 3000, svc.id);
    const nest = await only(join(fixtures, 'node-apis'), 'nest-api');
    assert.equal(nest.start?.command, 'npm run start:prod', '`nest start` needs the Nest CLI, a dev dependency');
    assert.match(generateDockerfile(nest), /^RUN npm run build$/m);
  });

  test('a pnpm or yarn script is started with npm, as the run-time user has no corepack download', async () => {
    const api = await only(join(fixtures, 'monorepo-polyglot'), 'apps/api');
    assert.equal(api.start?.command, 'pnpm start');
    const text = generateDockerfile(api);
    assert.match(
      text,
      /^RUN npm install -g .*corepack@[\d.]+ && corepack enable && .* && pnpm install --frozen-lockfile$/m,
    );
    assert.match(runStage(text), /^CMD \["npm","run","start"\]$/m);
    const koa = await only(join(fixtures, 'node-apis'), 'koa-api');
    assert.match(generateDockerfile(koa), /^CMD \["npm","run","start"\]$/m, koa.start?.command);
  });

  test('React Router serves its server build; TanStack Start and Nuxt run only the Nitro output', async () => {
    const rr = await only(join(realworld, 'react-router-app'));
    assert.ok(rr.frameworks.includes('react-router'), rr.frameworks.join());
    assert.match(rr.start?.command ?? '', /^npm start$|react-router-serve/, 'its start script: react-router-serve');
    assert.equal(rr.build?.node?.staticDir, undefined, 'not served as a single-page app');
    for (const dir of ['tanstack-start', 'nuxt-app']) {
      const svc = await only(join(realworld, dir));
      const text = generateDockerfile(svc);
      const run = runStage(text);
      assert.match(run, /^COPY --chown=10001:10001 --from=build \/app\/\.output \/app\/\.output$/m, dir);
      assert.doesNotMatch(run, /--from=build \/app \/app|node_modules/, `${dir}: no node_modules at run time`);
      assert.match(run, /^CMD \["node","\.output\/server\/index\.mjs"\]$/m, dir);
      assert.doesNotMatch(text, /prune/, `${dir}: nothing to prune when only .output is copied`);
      assert.equal(listenPort(text), 3000, dir);
    }
  });

  test('a pnpm workspace root whose dev script starts a member is not a second service', async () => {
    const topology = await analyze(join(realworld, 'pnpm-workspace'));
    const runnable = topology.services.filter((s) => s.start).map((s) => s.id);
    assert.deepEqual(runnable, ['apps/api']);
  });

  test("yarn 2+ is told from its yarn.lock, Plug'n'Play runs through .pnp.cjs, yarn 1 needs no latest", async () => {
    const pnp = generateDockerfile(await only(join(realworld, 'yarn-pnp')));
    // yarn-pnp has no .yarnrc.yml: yarn 4 is known from the lockfile's __metadata, not from that file.
    assert.match(pnp, /if grep -qs '\^__metadata:' yarn\.lock; then yarn workspaces focus --all --production;/);
    assert.ok(
      pnp.indexOf('NODE_OPTIONS="--require /app/.pnp.cjs"') > pnp.indexOf('yarn workspaces focus'),
      'the loader is required only after the install wrote it',
    );
    assert.match(pnp, /YARN_ENABLE_GLOBAL_CACHE=false/, 'the package zips stay in the image');
    assert.match(pnp, /COREPACK_NPM_REGISTRY=/, 'yarn 4 comes from the npm registry');
    const berry = generateDockerfile(await only(join(realworld, 'yarn-berry')));
    assert.doesNotMatch(berry, /NODE_OPTIONS|YARN_ENABLE_GLOBAL_CACHE/, 'the node-modules linker needs no loader');
    const classic = generateDockerfile(await only(join(realworld, 'yarn-classic')));
    assert.match(classic, /COREPACK_DEFAULT_TO_LATEST=0/, "an unpinned yarn is corepack's own default, yarn 1");
  });

  test('engines.node: a base image configured for a major it accepts is chosen, else the build warns', async () => {
    const dir = project({
      'package.json': JSON.stringify({
        name: 'needs-22',
        scripts: { start: 'node server.js' },
        engines: { node: '^20.19.0 || >=22.12.0' },
        dependencies: { express: '^5.0.0' },
      }),
      'package-lock.json': '{}',
      'server.js': "require('express')().listen(process.env.PORT || 3000);\n",
    });
    const svc = await only(dir);
    assert.equal(svc.build?.node?.nodeEngine, '^20.19.0 || >=22.12.0');
    const images = { node: 'node:18-slim', 'node-18': 'node:18-slim', 'node-22': 'node:22-slim', 'node-24': 'node:24' };
    assert.match(generateDockerfile(svc, images), /^FROM node:22-slim$/m, 'the lowest configured major it accepts');
    assert.match(generateDockerfile(svc, { node: 'node:18-slim' }), /^FROM node:18-slim$/m);
    const check = /^RUN \["node","-e",(".*")\]$/m.exec(generateDockerfile(svc, { node: 'node:18-slim' }))?.[1];
    assert.ok(check, "a build step checks the image's Node");
    const script = JSON.parse(check) as string;
    const warns = (version: string) => {
      const out = spawnSync(process.execPath, ['-e', script.replaceAll('process.versions.node', `'${version}'`)], {
        encoding: 'utf8',
      });
      assert.equal(out.status, 0, 'a warning, not a failed build');
      return out.stdout;
    };
    assert.match(
      warns('18.20.4'),
      /warning: package\.json engines\.node is "\^20\.19\.0 \|\| >=22\.12\.0" but this image has Node 18\.20\.4; .*--base-image node-<major>=<image>/,
    );
    for (const old of ['20.18.0', '21.7.0', '22.11.0']) assert.notEqual(warns(old), '', old);
    for (const ok of ['20.19.0', '22.12.0', '24.1.0']) assert.equal(warns(ok), '', ok);
  });

  test('the default Node image is the Active LTS, node:24-slim; engines.node still picks a configured node-<major>', async () => {
    const needs = (engines: string) =>
      only(
        project({
          'package.json': JSON.stringify({
            name: 'app',
            scripts: { start: 'node server.js' },
            engines: { node: engines },
          }),
          'package-lock.json': '{}',
          'server.js': 'require("http").createServer().listen(process.env.PORT || 3000);\n',
        }),
      );
    // Node 20 reached its end of life in April 2026: nothing configured, a project builds on Node 24.
    const current = await needs('>=22.12');
    assert.match(generateDockerfile(current), /^FROM node:24-slim$/m);
    assert.doesNotMatch(generateDockerfile(current), /node:20/);
    const check = JSON.parse(/^RUN \["node","-e",(".*")\]$/m.exec(generateDockerfile(current))![1]!) as string;
    const run = (version: string) =>
      spawnSync(process.execPath, ['-e', check.replaceAll('process.versions.node', `'${version}'`)], {
        encoding: 'utf8',
      }).stdout;
    assert.equal(run('24.0.0'), '', 'the default image satisfies a range that needs Node 22.12 or later');
    // A project that stays on Node 20 gets the image configured for it, and the default only with a warning.
    const legacy = await needs('^20.19.0');
    assert.match(generateDockerfile(legacy, { 'node-20': 'node:20-slim' }), /^FROM node:20-slim$/m);
    assert.match(generateDockerfile(legacy), /^FROM node:24-slim$/m);
  });

  test('kyozo.yaml build: runs in the build stage in place of the build script', async () => {
    const dir = project({
      'package.json': JSON.stringify({
        name: 'site',
        scripts: { build: 'vite build' },
        devDependencies: { vite: '^7' },
      }),
      'package-lock.json': '{}',
      'kyozo.yaml': 'build: npm run build -- --mode staging\n',
    });
    const text = generateDockerfile(await only(dir));
    assert.match(text, /^RUN npm run build -- --mode staging$/m);
    assert.doesNotMatch(text, /^RUN npm run build$/m);
    assert.ok(text.indexOf('--mode staging') < text.lastIndexOf('\nFROM '), 'in the build stage');
  });

  test('a Bun project (bun.lock) builds on the Bun image from settings, with bun and no Node-only step', async () => {
    const svc = await only(join(realworld, 'bun-api'));
    assert.equal(svc.build?.packageManager, 'bun');
    const text = generateDockerfile(svc, { node: 'node:22-slim', bun: 'registry.example/bun:1.4' });
    assert.match(text, /^FROM registry\.example\/bun:1\.4$/m, 'the bun key of the base images');
    assert.match(generateDockerfile(svc), /^FROM oven\/bun:1$/m, "else Bun's own image, not a Node one without bun");
    assert.match(text, /^RUN bun install --production --frozen-lockfile/m);
    assert.doesNotMatch(text, /COREPACK|"node","-e"/, 'neither corepack nor a node -e step in an image without Node');
    assert.match(text, /^CMD .*bun run index\.ts/m);
  });

  test('a known health route becomes the image HEALTHCHECK', async () => {
    const svc = await only(join(realworld, 'npm-workspace'), 'apps/web');
    assert.equal(svc.healthCheck?.path, '/health');
    assert.match(
      generateDockerfile(svc),
      /^HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD \["node","-e",".*http:\/\/127\.0\.0\.1:3000\/health/m,
    );
  });

  test('a failed build says what caused it and what to do, from the output of the failing step', () => {
    const fonts = new BuildError(
      'web',
      'Step 9/20 : RUN npm run build',
      [
        'Creating an optimized production build ...',
        'Failed to fetch `Geist` from Google Fonts.',
        'Error: getaddrinfo ENOTFOUND fonts.googleapis.com',
      ],
      "The command '/bin/sh -c npm run build' returned a non-zero code: 1",
    );
    assert.match(fonts.message, /failed at Step 9\/20 : RUN npm run build/);
    assert.match(fonts.message, /fetches Google Fonts at build time .* no network access to that host/);
    assert.match(fonts.message, /next\/font\/local/);
    const cert = new BuildError(
      'web',
      'Step 5/19 : RUN npm ci',
      [
        'npm error code SELF_SIGNED_CERT_IN_CHAIN',
        'npm error request to https://registry.npmjs.org/vite failed, reason: self-signed certificate in chain',
      ],
      'returned a non-zero code: 1',
    );
    assert.match(cert.message, /not trusted inside the build .* NODE_EXTRA_CA_CERTS/);
    const plain = new BuildError('api', 'Step 3/5 : RUN make', ['cc: error'], 'returned a non-zero code: 2');
    assert.equal(plain.message, 'build of api failed at Step 3/5 : RUN make: returned a non-zero code: 2');
  });

  test('build failures of the kinds real Node projects meet each say what to do', () => {
    const cases: [string, string[], RegExp][] = [
      [
        'RUN npm ci',
        [
          'npm error code EBADENGINE',
          'npm error engine Not compatible with your version of node/npm: astro@7.4.7',
          'npm error notsup Required: {"node":">=22.23.4"}',
        ],
        /needs a newer Node than the base image has; .*--base-image node-<major>=<image>/,
      ],
      [
        'RUN npm run build',
        [
          'Node.js version v20.20.2 detected.',
          'The Angular CLI requires a minimum Node.js version of v22.22.3 or v24.15.0 or v26.0.0.',
        ],
        /needs a newer Node than the base image has/,
      ],
      [
        'RUN npm run build',
        ['TypeError: fetch failed', '  [cause]: Error: getaddrinfo ENOTFOUND api.example.com'],
        /fetches api\.example\.com at build time, which the build cannot reach; .*at run time/,
      ],
      [
        'RUN corepack enable && pnpm install --frozen-lockfile',
        ['Error: No compatible signature found in package metadata'],
        /Corepack refused to download the package manager .* packageManager/,
      ],
      [
        'RUN npm ci',
        [
          'npm error gyp ERR! find Python',
          'npm error gyp ERR! find Python Python is not set from command line or npm configuration',
        ],
        /native module .*Python, make and a C\+\+ compiler/,
      ],
      [
        'RUN npm run build',
        ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'],
        /ran out of memory.*--max-old-space-size/,
      ],
    ];
    for (const [step, output, hint] of cases) {
      const err = new BuildError('web', `Step 7/19 : ${step}`, output, 'returned a non-zero code: 1');
      assert.match(err.message, hint, output.join('\n'));
      assert.match(err.message, /\(the build said: /, 'quotes the line that says why');
    }
  });

  test('the generated context leaves out .env files and node_modules, keeping .env.example', () => {
    const dir = project({
      'package.json': '{}',
      '.env': 'SECRET=1',
      '.env.local': 'SECRET=2',
      '.env.example': 'SECRET=',
      'node_modules/x/i.js': '',
    });
    const ctx = collectContext(dir, { extraIgnores: GENERATED_CONTEXT_IGNORES });
    assert.deepEqual(ctx.files.map((f) => f.path).sort(), ['.env.example', 'package.json']);
  });
});
