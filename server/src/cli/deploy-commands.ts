// `kyozo up/down/ps/logs/start/stop/restart/rm/scale/events/dockerfile/compose`: the orchestrator and the
// compose export on the command line. Exit codes: 1 deployment failed, 2 bad input, 69 engine unreachable.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { DeploymentEvent, ServiceStatus, Topology } from '../protocol';
import {
  analyze,
  DEFAULT_MAX_FILE_BYTES,
  exportCompose,
  generateDockerfile,
  InvalidReplicasError,
  runtimeOf,
  ServiceIndex,
  UnknownServiceError,
  validateReplicas,
  WorkspaceFileError,
  WorkspaceFiles,
  writeComposeExport,
  type DeployProgress,
} from '../engine';
// The Docker client: only this bundle (dist/cli-deploy.js) and the language server load it.
import {
  createOrchestrator,
  DeploymentError,
  EngineUnreachableError,
  EnvironmentError,
  SwarmUnavailableError,
  parseBuilderChoice,
  PromotionError,
  SecretStoreError,
  RegistryError,
  topologyFor,
  type BuilderChoice,
} from '../engine/deploy';
import { watchAfterUp } from './up-watch';
import { pullForUp, registerRegistryCommands } from './registry-commands';
import { parseTarget, swarmDown, swarmPs, swarmUp, type DeployTarget, type SwarmRun } from './swarm-commands';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
const dim = paint(2);
const bold = paint(1);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);

export interface DeployFlags {
  dir?: string;
  /** A deployment environment of the root kyozo.yaml: its overrides, as the project <name>-<env>. */
  env?: string;
  dockerHost?: string;
  baseImage: string[];
  builder?: string;
  stateDir?: string;
  topology?: string;
  memory?: string;
  cpus?: string;
  project?: string;
  /** `--parallel`: containers (or Swarm services) handled at once. */
  parallel?: string;
  /** `--target`: docker (the default) or swarm. */
  target?: string;
  /** `--gateway-image`: the nginx image that balances scaled services (else KYOZO_GATEWAY_IMAGE). */
  gatewayImage?: string;
}

import { CliInputError, parseBaseImages } from './cli-input';
export { CliInputError, parseBaseImages };

/** `--builder`, else KYOZO_BUILDER, else auto. */
export function builderChoice(flags: DeployFlags): BuilderChoice {
  try {
    return (
      parseBuilderChoice(flags.builder, '--builder') ??
      parseBuilderChoice(process.env.KYOZO_BUILDER, 'KYOZO_BUILDER') ??
      'auto'
    );
  } catch (e) {
    throw new CliInputError((e as Error).message);
  }
}

export function orchestratorFor(flags: DeployFlags) {
  const memoryMb = flags.memory ? parseMemoryMb(flags.memory) : undefined;
  const cpus = flags.cpus ? Number(flags.cpus) : undefined;
  if (cpus !== undefined && !(cpus > 0))
    throw new CliInputError(`--cpus expects a positive number, got '${flags.cpus}'`);
  return createOrchestrator({
    dockerHost: flags.dockerHost,
    baseImages: parseBaseImages(flags.baseImage),
    builder: builderChoice(flags),
    stateDir: flags.stateDir,
    project: flags.project,
    defaults: { memoryMb, cpus },
    parallelism: parseParallel(flags.parallel),
    gatewayImage: flags.gatewayImage,
  });
}

/** `--parallel N`, else KYOZO_PARALLEL, else the orchestrator's default (6). */
function parseParallel(text: string | undefined): number | undefined {
  const value = text ?? process.env.KYOZO_PARALLEL;
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new CliInputError(`--parallel expects a whole number from 1 to 64, got '${value}'`);
  return n;
}

/** `--target swarm`: the Swarm deployer's options and printing, from the same flags. */
function swarmRunFor(flags: DeployFlags, json?: boolean, onProgress?: (p: DeployProgress) => void): SwarmRun {
  const cpus = flags.cpus ? Number(flags.cpus) : undefined;
  if (cpus !== undefined && !(cpus > 0))
    throw new CliInputError(`--cpus expects a positive number, got '${flags.cpus}'`);
  return {
    options: {
      dockerHost: flags.dockerHost,
      baseImages: parseBaseImages(flags.baseImage),
      stateDir: flags.stateDir,
      project: flags.project,
      defaults: {
        memoryMb: flags.memory ? parseMemoryMb(flags.memory) : undefined,
        cpus,
      },
      parallelism: parseParallel(flags.parallel),
    },
    json,
    onProgress,
    format: formatStatuses,
  };
}

function deployTarget(flags: DeployFlags): DeployTarget {
  const target = parseTarget(flags.target);
  if (target instanceof Error) throw new CliInputError(target.message);
  return target;
}

function withTarget(cmd: Command): Command {
  return cmd.option(
    '--target <target>',
    'docker: containers on the engine (default); swarm: Docker Swarm services on the manager DOCKER_HOST names',
  );
}

function parseMemoryMb(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i.exec(text.trim());
  if (!m) throw new CliInputError(`--memory expects a size such as 512m or 1g, got '${text}'`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'm')[0]!.toLowerCase();
  return unit === 'g' ? n * 1024 : unit === 'k' ? n / 1024 : n;
}

/** The folder's topology, with `--env`'s overrides applied; its secrets read unless `secrets: false`. */
export async function loadTopology(
  dir: string,
  flags: DeployFlags,
  options: { secrets?: boolean } = {},
): Promise<Topology> {
  return topologyFor(await loadBaseTopology(dir, flags), flags.env, options);
}

async function loadBaseTopology(dir: string, flags: DeployFlags): Promise<Topology> {
  if (flags.topology) {
    try {
      return JSON.parse(readFileSync(flags.topology, 'utf8')) as Topology;
    } catch (e) {
      throw new CliInputError(`cannot read topology ${flags.topology}: ${(e as Error).message}`);
    }
  }
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new CliInputError(`${root} is not a folder; pass the folder to deploy`);
  return analyze(root);
}

/** Splits `[dir] [service...]`: the first argument is the folder when it names an existing directory. */
export function dirAndServices(args: string[], flags: DeployFlags): { dir: string; services: string[] } {
  if (args[0] && !flags.dir && existsSync(args[0]) && statSync(args[0]).isDirectory())
    return { dir: args[0], services: args.slice(1) };
  return { dir: flags.dir ?? '.', services: args };
}

export function withDeployOptions(cmd: Command): Command {
  return cmd
    .option('-d, --dir <dir>', 'workspace folder (default: current folder)')
    .option('--env <name>', "deployment environment of the root kyozo.yaml's environments: (its own project and state)")
    .option('--docker-host <url>', 'Docker engine address (default: DOCKER_HOST, then unix:///var/run/docker.sock)')
    .option(
      '--base-image <runtime=image>',
      'base image for generated Dockerfiles, e.g. node=node:24-slim, or a run ' +
        "stage's, e.g. go-run=scratch (repeatable; also KYOZO_BASE_IMAGES)",
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(
      '--builder <builder>',
      'how images are built: auto (BuildKit when the engine has it), buildkit (cache mounts for package managers) ' +
        'or classic (default: KYOZO_BUILDER, else auto)',
    )
    .option(
      '--state-dir <dir>',
      'where credentials, port allocations and events are kept (default: KYOZO_STATE_DIR or ~/.local/state/kyozo)',
    )
    .option('--project <name>', 'compose project / workspace name (default: the folder name)')
    .option('--topology <file>', 'use a topology JSON (from `kyozo analyze --json`) instead of analysing the folder')
    .option('--memory <size>', 'default memory limit per container (default 512m)')
    .option('--cpus <n>', 'default CPU limit per container (default 0.5)')
    .option('--parallel <n>', 'containers started, stopped or removed at once (default 6; also KYOZO_PARALLEL)')
    .option(
      '--gateway-image <image>',
      'nginx image of the gateway in front of scaled services (default: KYOZO_GATEWAY_IMAGE, else nginx:1.27-alpine)',
    );
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

function uptime(iso?: string): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${s % 60}s`
      : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function bytes(n?: number): string {
  if (n === undefined) return '-';
  return n > 1 << 30 ? `${(n / (1 << 30)).toFixed(1)}GiB` : `${(n / (1 << 20)).toFixed(1)}MiB`;
}

function stateColor(state: string): string {
  return state === 'running' || state === 'healthy'
    ? green(state)
    : state === 'error' || state === 'unhealthy'
      ? red(state)
      : yellow(state);
}

export function formatStatuses(statuses: ServiceStatus[]): string {
  if (!statuses.length) return 'No deployable services in this folder.';
  const rows = [['SERVICE', 'STATE', 'HEALTH', 'REPLICAS', 'PORTS', 'UPTIME', 'CPU', 'MEMORY']];
  for (const s of statuses) {
    rows.push([
      s.name,
      s.state,
      s.health,
      `${s.replicas.running}/${s.replicas.desired}`,
      s.ports.map((p) => p.url ?? `${p.host}->${p.container}/${p.protocol}`).join(' ') || '-',
      uptime(s.startedAt),
      s.cpuPercent === undefined ? '-' : `${s.cpuPercent.toFixed(1)}%`,
      bytes(s.memoryBytes),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r, ri) => {
    const text = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
    return ri === 0 ? bold(text) : text.replace(r[1]!, stateColor(r[1]!));
  });
  for (const s of statuses) if (s.message) lines.push(`${dim(`${s.name}:`)} ${s.message}`);
  return lines.join('\n');
}

function formatEvents(events: DeploymentEvent[]): string {
  if (!events.length) return 'No deployment events recorded yet.';
  return events
    .map((e) =>
      [
        dim(e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')),
        e.type.padEnd(20),
        (e.serviceId ?? '-').padEnd(16),
        e.durationMs !== undefined ? seconds(e.durationMs).padStart(7) : '      -',
        e.message ?? '',
      ].join('  '),
    )
    .join('\n');
}

/**
 * Live progress. On a terminal: one line per service, redrawn in place with its state and a ticking
 * elapsed time. Elsewhere (CI logs, pipes): one line per state change. Build output with --verbose.
 */
export function progressPrinter(
  topology: Topology,
  verbose: boolean,
): { onProgress: (p: DeployProgress) => void; stop: () => void } {
  const name = (id: string) => topology.services.find((s) => s.id === id)?.name ?? id;
  const width = Math.max(8, ...topology.services.map((s) => s.name.length));
  const line = (id: string, state: string, elapsedMs: number, message?: string) =>
    `${name(id).padEnd(width)}  ${stateColor(state)}${' '.repeat(Math.max(1, 10 - state.length))}${dim(seconds(elapsedMs).padStart(6))}${message ? ` ${dim(message.split('\n')[0]!.slice(0, 100))}` : ''}`;
  if (!process.stdout.isTTY || verbose) {
    const last = new Map<string, string>();
    return {
      onProgress: (p) => {
        const changed = last.get(p.serviceId) !== p.state;
        if (!changed && !(verbose && p.message)) return;
        last.set(p.serviceId, p.state);
        process.stdout.write(`${line(p.serviceId, p.state, p.elapsedMs, p.message)}\n`);
      },
      stop: () => undefined,
    };
  }
  const rows = new Map<
    string,
    { state: string; since: number; elapsedBase: number; message?: string; done: boolean }
  >();
  let drawn = 0;
  const draw = () => {
    if (drawn) process.stdout.write(`\x1b[${drawn}A`);
    for (const [id, r] of rows) {
      const elapsed = r.done ? r.elapsedBase : r.elapsedBase + (Date.now() - r.since);
      process.stdout.write(`\x1b[2K${line(id, r.state, elapsed, r.message)}\n`);
    }
    drawn = rows.size;
  };
  const timer = setInterval(draw, 200);
  return {
    onProgress: (p) => {
      const finished = p.state === 'healthy' || p.state === 'error';
      const prev = rows.get(p.serviceId);
      rows.set(p.serviceId, {
        state: p.state,
        since: Date.now(),
        elapsedBase: p.elapsedMs,
        message: p.message ?? (prev?.state === p.state ? prev.message : undefined),
        done: finished,
      });
      draw();
    },
    stop: () => {
      clearInterval(timer);
      draw();
    },
  };
}

export async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof EngineUnreachableError || err instanceof SwarmUnavailableError) {
      process.stderr.write(`kyozo: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (
      err instanceof CliInputError ||
      err instanceof UnknownServiceError ||
      err instanceof InvalidReplicasError ||
      err instanceof EnvironmentError
    ) {
      process.stderr.write(`kyozo: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof RegistryError || err instanceof PromotionError || err instanceof SecretStoreError) {
      process.stderr.write(`kyozo: ${err.message}\n`);
      process.exit(1);
    }
    if (err instanceof DeploymentError) {
      process.stderr.write(
        `${red('deployment failed')}\n${err.failures.map((f) => `  ${bold(f.serviceId)}: ${f.message.replace(/\n/g, '\n    ')}`).join('\n')}\n`,
      );
      const logTail = err.failures.find((f) => Array.isArray(f.details.logTail))?.details.logTail as
        string[] | undefined;
      if (logTail?.length && err.failures.some((f) => f.details.step))
        process.stderr.write(`${dim('last build output:')}\n${logTail.map((l) => `    ${l}`).join('\n')}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export function registerDeployCommands(program: Command): void {
  upCommand(program);
  downCommand(program);
  psCommand(program);
  serviceVerbCommands(program);
  scaleCommand(program);
  logsCommand(program);
  eventsCommand(program);
  dockerfileCommand(program);
  composeCommand(program);
  registerRegistryCommands(program);
}

type UpFlags = DeployFlags & {
  verbose?: boolean;
  json?: boolean;
  registry?: string;
  fromRegistry?: boolean;
  watch?: boolean;
};

/** `kyozo up`: build and start in dependency order; Ctrl-C removes what was created but not started. */
function upCommand(program: Command): void {
  withTarget(
    withDeployOptions(
      program
        .command('up')
        .argument('[dir-or-service...]', 'folder to deploy (default: current), then services to deploy (default: all)'),
    ),
  )
    .description('build and start the services of a folder in dependency order, waiting for each to be healthy')
    .option('-v, --verbose', 'print build output')
    .option('--json', 'print the final statuses as JSON')
    .option('--registry <registry>', 'registry for --from-registry (default: registry: of the root kyozo.yaml)')
    .option('--from-registry', "pull each service's image of its current content from the registry instead of building")
    .option('--watch', 'stay after up: keep gateways in step with healthy replicas and autoscale services with scaling')
    .action((args: string[], flags: UpFlags) =>
      run(async () => {
        const { dir, services } = dirAndServices(args, flags);
        const topology = await loadTopology(dir, flags);
        if (deployTarget(flags) === 'swarm') {
          const printer = flags.json ? undefined : progressPrinter(topology, Boolean(flags.verbose));
          return swarmUp(topology, services, swarmRunFor(flags, flags.json, printer?.onProgress)).finally(() =>
            printer?.stop(),
          );
        }
        const orchestrator = orchestratorFor(flags);
        const abort = new AbortController();
        let interrupts = 0;
        const onSigint = () => {
          if (++interrupts > 1) process.exit(130);
          process.stderr.write(
            '\nkyozo: interrupting; removing containers that were created but not started (Ctrl-C again to quit now)\n',
          );
          abort.abort();
        };
        process.on('SIGINT', onSigint);
        process.on('SIGTERM', onSigint);
        const t0 = Date.now();
        // Pulled before anything is touched: a registry that refuses leaves the running services as they were.
        const images = flags.fromRegistry ? await pullForUp(orchestrator, topology, services, flags) : undefined;
        const printer = flags.json ? undefined : progressPrinter(topology, Boolean(flags.verbose));
        try {
          const statuses = await orchestrator
            .up(topology, { services, images, onProgress: printer?.onProgress, signal: abort.signal })
            .finally(() => printer?.stop());
          if (flags.json) process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
          else
            process.stdout.write(`\n${formatStatuses(statuses)}\n${dim(`deployed in ${seconds(Date.now() - t0)}`)}\n`);
        } finally {
          process.off('SIGINT', onSigint);
          process.off('SIGTERM', onSigint);
        }
        if (flags.watch) await watchAfterUp(orchestrator, topology, (l) => process.stdout.write(`${l}\n`));
      }),
    );
}

/** `kyozo down`: remove the containers and the network (and the volumes, when asked). */
function downCommand(program: Command): void {
  withTarget(withDeployOptions(program.command('down').argument('[dir]')))
    .description('remove the containers and the network of a folder (volumes only with --volumes)')
    .option('--volumes', 'also remove the named volumes (database data)')
    .action((dir: string | undefined, flags: DeployFlags & { volumes?: boolean }) =>
      run(async () => {
        const topology = await loadTopology(dir ?? flags.dir ?? '.', flags, { secrets: false });
        if (deployTarget(flags) === 'swarm') return swarmDown(topology, swarmRunFor(flags));
        await orchestratorFor(flags).down(topology, { volumes: flags.volumes });
        process.stdout.write(
          `removed the containers${flags.volumes ? ', volumes' : ''} and network of ${topology.name}` +
            `${topology.environment ? ` (${topology.environment.name})` : ''}\n`,
        );
      }),
    );
}

/** `kyozo ps`: statuses rebuilt from the engine, after repairing what an interrupted up left. */
function psCommand(program: Command): void {
  withTarget(withDeployOptions(program.command('ps').argument('[dir]')))
    .description('services with state, health, replicas, URLs, uptime, CPU and memory (rebuilt from the engine)')
    .option('--json', 'print ServiceStatus[] as JSON')
    .option('--no-stats', 'skip CPU and memory sampling (faster)')
    .action((dir: string | undefined, flags: DeployFlags & { json?: boolean; stats?: boolean }) =>
      run(async () => {
        const topology = await loadTopology(dir ?? flags.dir ?? '.', flags, { secrets: false });
        if (deployTarget(flags) === 'swarm') return swarmPs(topology, swarmRunFor(flags, flags.json));
        const orchestrator = orchestratorFor(flags);
        // ps is where a user looks after a killed `kyozo up`, so it also cleans up what that left.
        await orchestrator.repair(topology);
        const statuses = await orchestrator.status(topology, { stats: flags.stats !== false });
        process.stdout.write(flags.json ? `${JSON.stringify(statuses, null, 2)}\n` : `${formatStatuses(statuses)}\n`);
      }),
    );
}

/** `kyozo start|stop|restart|rm <service>`: one service's containers. */
function serviceVerbCommands(program: Command): void {
  for (const [verb, description] of [
    ['start', 'start a service (deploys it when it has no containers yet)'],
    ['stop', "stop a service's containers (kept, restartable)"],
    ['restart', 'restart a service and wait until it is healthy again'],
    ['rm', "remove a service's containers"],
  ] as const) {
    withDeployOptions(program.command(verb).argument('<service>', 'service name or id'))
      .description(description)
      .action((ref: string, flags: DeployFlags) =>
        run(async () => {
          // start and restart may deploy the service (it has no containers yet); stop and rm only find its containers.
          const topology = await loadTopology(flags.dir ?? '.', flags, {
            secrets: verb === 'start' || verb === 'restart',
          });
          const orchestrator = orchestratorFor(flags);
          const service = findServiceOrExit(topology, ref);
          if (verb === 'rm') {
            await orchestrator.remove(topology, service.id);
            process.stdout.write(`removed ${service.name}\n`);
            return;
          }
          const status = await orchestrator[verb](topology, service.id);
          process.stdout.write(`${formatStatuses([status])}\n`);
        }),
      );
  }
}

/** `kyozo scale api=3 ...`: replicas per service, never rebuilding. */
function scaleCommand(program: Command): void {
  withDeployOptions(program.command('scale').argument('<service=replicas...>', 'e.g. api=3'))
    .description('run N replicas of a service behind its shared network alias')
    .action((specs: string[], flags: DeployFlags) =>
      run(async () => {
        const topology = await loadTopology(flags.dir ?? '.', flags);
        const orchestrator = orchestratorFor(flags);
        const out: ServiceStatus[] = [];
        for (const spec of specs) {
          const m = /^([^=]+)=(.*)$/.exec(spec);
          if (!m) throw new CliInputError(`scale expects <service>=<replicas>, e.g. api=3; got '${spec}'`);
          const service = findServiceOrExit(topology, m[1]!);
          out.push(await orchestrator.scale(topology, service.id, validateReplicas(m[2], `scale ${spec}`)));
        }
        process.stdout.write(`${formatStatuses(out)}\n`);
      }),
    );
}

/** `kyozo logs <service>`: every replica's log, optionally followed. */
function logsCommand(program: Command): void {
  withDeployOptions(program.command('logs').argument('<service>', 'service name or id'))
    .description("print a service's container logs (all replicas)")
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <n>', 'lines per container to start from', '200')
    .action((ref: string, flags: DeployFlags & { follow?: boolean; tail: string }) =>
      run(async () => {
        const topology = await loadTopology(flags.dir ?? '.', flags, { secrets: false });
        const service = findServiceOrExit(topology, ref);
        const tail = Number(flags.tail);
        if (!Number.isInteger(tail) || tail < 0)
          throw new CliInputError(`--tail expects a whole number, got '${flags.tail}'`);
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        for await (const line of orchestratorFor(flags).logs(topology, service.id, {
          follow: flags.follow,
          tail,
          signal: abort.signal,
        })) {
          process.stdout.write(`${line}\n`);
        }
      }),
    );
}

/** `kyozo events [service]`: the durable deployment event log. */
function eventsCommand(program: Command): void {
  withDeployOptions(program.command('events').argument('[service]', "only this service's events"))
    .description(
      'the durable deployment event log (started, completed, failed, stopped, scaled, health) with durations',
    )
    .option('--json', 'print the events as JSON')
    .option('-n, --last <n>', 'only the last N events')
    .action((ref: string | undefined, flags: DeployFlags & { json?: boolean; last?: string }) =>
      run(async () => {
        const topology = await loadTopology(flags.dir ?? '.', flags, { secrets: false });
        const id = ref ? findServiceOrExit(topology, ref).id : undefined;
        let events = await orchestratorFor(flags).events(topology, id);
        if (flags.last) events = events.slice(-Number(flags.last));
        process.stdout.write(flags.json ? `${JSON.stringify(events, null, 2)}\n` : `${formatEvents(events)}\n`);
      }),
    );
}

/** `kyozo dockerfile <service>`: the Dockerfile a service builds with, its own or the generated one. */
function dockerfileCommand(program: Command): void {
  withDeployOptions(program.command('dockerfile').argument('<service>', 'service name or id'))
    .description('print the Dockerfile Kyozo generates for a service without one (commit it to customise)')
    .action((ref: string, flags: DeployFlags) =>
      run(async () => {
        const topology = await loadTopology(flags.dir ?? '.', flags, { secrets: false });
        const service = findServiceOrExit(topology, ref);
        if (service.build?.dockerfile) {
          const label = `Dockerfile ${service.build.dockerfile} of ${service.name}`;
          let text: string;
          try {
            text = new WorkspaceFiles(topology.root).readWhole(service.build.dockerfile, DEFAULT_MAX_FILE_BYTES, label);
          } catch (e) {
            if (e instanceof WorkspaceFileError) throw new CliInputError(e.message);
            throw e;
          }
          process.stderr.write(
            `${service.name} has its own Dockerfile (${service.build.dockerfile}); Kyozo builds that one.\n`,
          );
          process.stdout.write(text);
          return;
        }
        if (service.image && !service.build)
          throw new CliInputError(`${service.name} runs the image ${service.image}; nothing to build`);
        if (!runtimeOf(service))
          throw new CliInputError(
            `${service.name} is of type ${service.type}, for which Kyozo has no Dockerfile template; add a Dockerfile or set type in kyozo.yaml`,
          );
        // Written for the builder that would build it: `auto` asks the engine.
        const baseImages = parseBaseImages(flags.baseImage);
        const choice = builderChoice(flags);
        let builder = choice === 'auto' ? undefined : choice;
        if (!builder) {
          const o = createOrchestrator({ dockerHost: flags.dockerHost, builder: choice });
          if ((await o.ping()).reachable) builder = await o.builder();
          else
            process.stderr.write(
              `kyozo: no Docker engine answers at ${o.host}; this is the Dockerfile for the classic builder ` +
                '(--builder buildkit prints the one BuildKit builds)\n',
            );
        }
        process.stdout.write(generateDockerfile(service, baseImages, { builder: builder ?? 'classic' }));
      }),
    );
}

/** `kyozo compose [dir]`: a compose file for the folder, with its generated Dockerfiles when written to a file. */
function composeCommand(program: Command): void {
  withDeployOptions(program.command('compose').argument('[dir]'))
    .description(
      'write a compose file (compose-spec valid) for the folder: builds, ports, environment, depends_on, healthchecks, volumes, limits',
    )
    .option(
      '-o, --output <file>',
      'write to this file (and generated Dockerfiles to .kyozo/dockerfiles beside it) instead of stdout',
    )
    .action((dir: string | undefined, flags: DeployFlags & { output?: string }) =>
      run(async () => {
        const topology = await loadTopology(dir ?? flags.dir ?? '.', flags);
        const outputDir = flags.output ? dirname(resolve(flags.output)) : topology.root;
        const out = exportCompose(topology, {
          outputDir,
          baseImages: parseBaseImages(flags.baseImage),
          defaults: {
            memoryMb: flags.memory ? parseMemoryMb(flags.memory) : undefined,
            cpus: flags.cpus ? Number(flags.cpus) : undefined,
          },
        });
        if (!flags.output) {
          process.stdout.write(out.yaml);
          const n = Object.keys(out.dockerfiles).length;
          if (n)
            process.stderr.write(
              `kyozo: ${n} service(s) use generated Dockerfiles (${Object.keys(out.dockerfiles).join(', ')}); use -o <file> to write them too\n`,
            );
          return;
        }
        writeComposeExport(out, resolve(flags.output), outputDir);
        process.stdout.write(
          `wrote ${flags.output}${Object.keys(out.dockerfiles).length ? ` and ${Object.keys(out.dockerfiles).length} generated Dockerfile(s) in ${join(outputDir, '.kyozo/dockerfiles')}` : ''}\n`,
        );
      }),
    );
}

function findServiceOrExit(topology: Topology, ref: string) {
  return ServiceIndex.of(topology).require(ref);
}
