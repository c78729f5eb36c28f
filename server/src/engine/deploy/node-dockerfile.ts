// The generated Dockerfile of a Node.js package. What it runs is what the detection reported (build.node, start,
// ports): a static build is served by a real static server (index.html for unknown routes, gzip, cache headers),
// an SSR framework by its production server, and dev dependencies never reach the run-time image. A workspace
// member is built from its workspace root (one install from the root lockfile) and runs alone.
import type { Service } from '../../protocol';
import { isSinglePageApp, STATIC_SERVER, staticServerArgv } from '../detect/node-build-plan';
import {
  CLASSIC,
  HEALTHCHECK_OPTIONS,
  run,
  userBuild,
  type BuildFeatures,
  type CacheDir,
} from './images/dockerfile-parts';
import { nodeEngineCheck } from './node-engine';

const USER = '10001:10001';
/** Frameworks that always build; used when a service carries no build plan (a topology saved by an older version). */
const BUILD_FRAMEWORKS = ['next', 'vite', 'nuxt', 'astro', 'sveltekit', 'remix', 'angular', 'gatsby', 'nestjs'];

/** Cache headers for the static server: hashed assets are immutable, pages are revalidated. */
const SERVE_CONFIG = {
  headers: [
    {
      source: '{assets,_astro,_next/static,static}/**',
      headers: [{ key: 'Cache-Control', value: 'public, max-age=31536000, immutable' }],
    },
    { source: '**/*.html', headers: [{ key: 'Cache-Control', value: 'no-cache' }] },
  ],
};

type Pm = 'npm' | 'pnpm' | 'yarn' | 'bun';

/**
 * Corepack, pinned: the one bundled with a Node image checks pnpm and yarn against the npm registry's signing keys
 * it shipped with, and refuses them ("No compatible signature found") once the registry has rotated its keys.
 */
const COREPACK =
  'npm install -g --no-audit --no-fund corepack@0.36.0 && corepack enable' +
  // Yarn 2+ is fetched from repo.yarnpkg.com unless corepack is pointed at the npm registry the install uses anyway.
  ' && export COREPACK_NPM_REGISTRY="${COREPACK_NPM_REGISTRY:-$(npm config get registry | sed \'s:/*$::\')}"';

/** Yarn 2+ writes `__metadata` at the top of its yarn.lock; yarn 1 does not (and has no --immutable). */
const YARN_BERRY = "grep -qs '^__metadata:' yarn.lock";

/** Installs every dependency exactly as the lockfile says; fails when the lockfile is out of date. */
function installAll(pm: Pm): string {
  switch (pm) {
    case 'pnpm':
      return `${COREPACK} && pnpm install --frozen-lockfile`;
    case 'yarn':
      return `${COREPACK} && if ${YARN_BERRY}; then yarn install --immutable; else yarn install --frozen-lockfile; fi`;
    case 'bun':
      return 'bun install --frozen-lockfile';
    default:
      return 'if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi';
  }
}

/** Removes dev dependencies after the build (workspace-aware: run at the root). */
function pruneDev(pm: Pm, build: BuildFeatures): string {
  switch (pm) {
    case 'pnpm':
      // `pnpm prune --prod` in a workspace drops the members' own dependencies; a production install from the
      // store the full install filled (offline) links exactly what the lockfile says production needs. A store in a
      // cache mount may have been pruned since the install's layer was made: it is preferred, not required.
      return (
        'find . -name node_modules -type d -prune -exec rm -rf {} + ' +
        `&& pnpm install --frozen-lockfile --prod ${build.cacheMounts ? '--prefer-offline' : '--offline'} --ignore-scripts`
      );
    case 'yarn':
      return (
        `if ${YARN_BERRY}; then yarn workspaces focus --all --production; ` +
        'else yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline; fi'
      );
    case 'bun':
      return 'rm -rf node_modules && bun install --production --frozen-lockfile';
    default:
      return 'npm prune --omit=dev --no-audit --no-fund';
  }
}

/** Production-only install for a package that needs no build (one stage). */
function installProd(pm: Pm): string {
  switch (pm) {
    case 'pnpm':
      return `${COREPACK} && pnpm install --frozen-lockfile --prod`;
    case 'yarn':
      return (
        `${COREPACK} && if ${YARN_BERRY}; then yarn workspaces focus --all --production; ` +
        'else yarn install --production --frozen-lockfile; fi'
      );
    case 'bun':
      return 'bun install --production --frozen-lockfile';
    default:
      return (
        'if [ -f package-lock.json ]; then npm ci --omit=dev --no-audit --no-fund; ' +
        'else npm install --omit=dev --no-audit --no-fund; fi'
      );
  }
}

/**
 * Download caches under BuildKit. npm's is set for the step only: the image's own NPM_CONFIG_CACHE stays for the
 * unprivileged user. Yarn 1 keeps its cache at a fixed path when run as root; Yarn 2+ in its global folder. Bun's
 * install links from its cache, which a mount on another filesystem would turn into copies of every package: none.
 */
const NPM_CACHE: CacheDir = { id: 'kyozo-npm', target: '/root/.npm', env: 'NPM_CONFIG_CACHE' };
const PM_CACHES: Record<Pm, CacheDir[]> = {
  npm: [NPM_CACHE],
  pnpm: [NPM_CACHE, { id: 'kyozo-pnpm-store', target: '/root/.local/share/pnpm/store', env: 'npm_config_store_dir' }],
  yarn: [
    NPM_CACHE,
    { id: 'kyozo-yarn', target: '/usr/local/share/.cache/yarn', sharing: 'locked' },
    { id: 'kyozo-yarn-berry', target: '/root/.yarn/berry', env: 'YARN_GLOBAL_FOLDER', sharing: 'locked' },
  ],
  bun: [],
};

const LOCKFILES: Record<Pm, string> = {
  npm: 'package-lock.json',
  pnpm: 'pnpm-lock.yaml',
  yarn: 'yarn.lock',
  bun: 'bun.lock',
};

function healthcheck(service: Service, port: number | undefined): string[] {
  const hc = service.healthCheck;
  if (hc?.kind !== 'http' || !hc.path || !(hc.port ?? port)) return [];
  const url = `http://127.0.0.1:${hc.port ?? port}${hc.path.startsWith('/') ? '' : '/'}${hc.path}`;
  const probe = `fetch(${JSON.stringify(url)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  // Bun runs the same probe (fetch, process.exit) and is all a Bun image may have.
  const runtime = service.build?.packageManager === 'bun' ? 'bun' : 'node';
  return [`HEALTHCHECK ${HEALTHCHECK_OPTIONS} CMD ${JSON.stringify([runtime, '-e', probe])}`];
}

function expose(service: Service): string[] {
  const ports = [...new Set(service.ports.map((p) => `${p.container}${p.protocol === 'udp' ? '/udp' : ''}`))];
  return ports.length ? [`EXPOSE ${ports.join(' ')}`] : [];
}

/**
 * The container command. pnpm and yarn come from corepack, which would fetch them again at run time as the
 * unprivileged user, so a package script started with them (`pnpm start`, `yarn run serve`) is started with npm,
 * which every Node image has and which runs the same script with node_modules/.bin on the PATH.
 */
function cmd(service: Service, fallback: string[]): string {
  const start = service.start;
  const viaPm = /^\s*(?:pnpm|yarn)\s+(?:run\s+)?([\w:.-]+)\s*$/;
  const script = start?.source === 'script' ? viaPm.exec(start.command) : null;
  let argv = fallback;
  if (script) argv = ['npm', 'run', script[1]!];
  else if (start?.argv?.length) argv = start.argv;
  else if (start?.command) argv = ['sh', '-c', start.command];
  return `CMD ${JSON.stringify(argv)}`;
}

/** The lines of the generated Dockerfile of a Node.js service, after the header comment. */
export function nodeDockerfileLines(service: Service, base: string, features: BuildFeatures = CLASSIC): string[] {
  const pm = (service.build?.packageManager ?? 'npm') as Pm;
  const cached = (command: string, caches = PM_CACHES[pm]) => run(command, caches, features);
  const plan = service.build?.node ?? {};
  const member = plan.member;
  const app = member ? `/app/${member}` : '/app';
  const port = service.ports[0]?.container;
  const framework = service.frameworks.some((f) => BUILD_FRAMEWORKS.includes(f));
  // kyozo.yaml `build:` runs in place of the package's build script, in the build stage, with every dependency.
  const custom = userBuild(service);
  const buildScript = custom ? 'build' : (plan.buildScript ?? (framework ? 'build' : undefined));
  const buildStep = custom ? `RUN ${custom}` : `RUN ${pm} run ${buildScript}`;
  const labels = [`LABEL org.opencontainers.image.title=${JSON.stringify(service.name)} dev.kyozo.generated="node"`];
  const runEnv = 'ENV NODE_ENV=production NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_CACHE=/tmp/.npm HOME=/tmp';
  // Plug'n'Play has no node_modules: Node resolves packages through the loader the install wrote at the root.
  const pnpEnv = plan.yarnPnp ? ['ENV NODE_OPTIONS="--require /app/.pnp.cjs"'] : [];
  // The default corepack resolves an unpinned yarn by asking the registry for its latest release, which it then
  // refuses when the registry's signing keys are newer than its own; its own default (yarn 1) is what yarn.lock v1 needs.
  const pmEnv =
    pm === 'npm' || pm === 'bun'
      ? []
      : [
          `ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_DEFAULT_TO_LATEST=0${plan.yarnPnp ? ' YARN_ENABLE_GLOBAL_CACHE=false' : ''}`,
        ];
  // A Bun image may have no node to run the check with.
  const engineCheck = pm === 'bun' ? [] : nodeEngineCheck(plan.nodeEngine);
  const listenEnv = port ? [`ENV HOST=0.0.0.0 PORT=${port}${plan.nextStandalone ? ' HOSTNAME=0.0.0.0' : ''}`] : [];
  const tail = [`USER ${USER}`, ...expose(service), ...healthcheck(service, port)];

  if (!buildScript && !member) {
    // One stage: production dependencies in their own layer (cached while package files are unchanged), then sources.
    // Yarn 2+ needs its .yarnrc.yml and .yarn/ (a pinned release, plugins) to install, so yarn copies everything.
    const install =
      pm === 'yarn'
        ? [`COPY --chown=${USER} . .`, cached(`${installProd(pm)} && mkdir -p node_modules`)]
        : [
            `COPY package.json ${LOCKFILES[pm]}* ./`,
            cached(`${installProd(pm)} && mkdir -p node_modules`),
            `COPY --chown=${USER} . .`,
          ];
    return [
      `FROM ${base}`,
      ...labels,
      'WORKDIR /app',
      runEnv,
      ...pmEnv,
      ...listenEnv,
      ...engineCheck,
      ...install,
      // After the install: before it there is no .pnp.cjs for Node to load.
      ...pnpEnv,
      ...tail,
      cmd(service, [pm === 'bun' ? 'bun' : 'npm', 'start']),
    ];
  }

  // Build stage: every dependency from the lockfile (a member's whole workspace: its siblings are linked, not
  // fetched), the build, then the dev dependencies pruned so the run-time stage copies only what runs.
  const build = [
    `FROM ${base} AS build`,
    'WORKDIR /app',
    'ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_CACHE=/tmp/.npm CI=1',
    'ENV NEXT_TELEMETRY_DISABLED=1 ASTRO_TELEMETRY_DISABLED=1 NUXT_TELEMETRY_DISABLED=1',
    ...pmEnv,
    ...engineCheck,
  ];
  if (member || pm === 'yarn') {
    // A workspace install needs every member's package.json, and yarn berry its .yarnrc.yml and release.
    build.push('COPY . .', cached(installAll(pm)));
  } else {
    build.push(`COPY package.json ${LOCKFILES[pm]}* ./`, cached(installAll(pm)), 'COPY . .');
  }
  if (buildScript) build.push(...(member ? [`WORKDIR ${app}`] : []), buildStep);

  if (plan.staticDir && port) {
    const serveConfig = JSON.stringify(SERVE_CONFIG).replace(/'/g, "'\\''");
    return [
      ...build,
      cached(
        `npm install --prefix ${STATIC_SERVER.dir} --no-audit --no-fund ` +
          `${STATIC_SERVER.package}@${STATIC_SERVER.version} ` +
          `&& printf '%s\\n' '${serveConfig}' > ${STATIC_SERVER.dir}/serve.json`,
        [NPM_CACHE],
      ),
      '',
      `FROM ${base}`,
      ...labels,
      `WORKDIR ${app}`,
      runEnv,
      `COPY --from=build ${STATIC_SERVER.dir} ${STATIC_SERVER.dir}`,
      // Owned by root and read-only for the server's user: the site cannot be changed from inside.
      `COPY --from=build ${app}/${plan.staticDir} ${app}/${plan.staticDir}`,
      ...tail,
      `CMD ${JSON.stringify(staticServerArgv(plan.staticDir, port, isSinglePageApp(service.frameworks)))}`,
    ];
  }

  if (plan.nextStandalone) {
    const rel = member ? `${member}/` : '';
    return [
      ...build,
      'RUN mkdir -p public',
      '',
      `FROM ${base}`,
      ...labels,
      'WORKDIR /app',
      runEnv,
      ...listenEnv,
      // The standalone output carries the traced node_modules only; static assets and public/ are copied beside it.
      `COPY --chown=${USER} --from=build ${app}/.next/standalone ./`,
      `COPY --chown=${USER} --from=build ${app}/.next/static ./${rel}.next/static`,
      `COPY --chown=${USER} --from=build ${app}/public ./${rel}public`,
      `WORKDIR ${app}`,
      ...tail,
      cmd(service, ['node', 'server.js']),
    ];
  }

  if (plan.serverOutput) {
    // Nitro bundles the server and the packages it needs into .output: nothing else is copied.
    return [
      ...build,
      '',
      `FROM ${base}`,
      ...labels,
      `WORKDIR ${app}`,
      runEnv,
      ...listenEnv,
      `COPY --chown=${USER} --from=build ${app}/${plan.serverOutput} ${app}/${plan.serverOutput}`,
      ...tail,
      cmd(service, ['node', `${plan.serverOutput}/server/index.mjs`]),
    ];
  }

  return [
    ...build,
    ...(member && buildScript ? ['WORKDIR /app'] : []),
    cached(pruneDev(pm, features)),
    '',
    `FROM ${base}`,
    ...labels,
    `WORKDIR ${app}`,
    runEnv,
    ...pnpEnv,
    ...listenEnv,
    `COPY --chown=${USER} --from=build /app /app`,
    ...tail,
    cmd(service, [pm === 'bun' ? 'bun' : 'npm', 'start']),
  ];
}
