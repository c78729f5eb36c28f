// `kyozo push [services]`, `kyozo promote <from> <to> [services]`, `kyozo secret set|rm|ls` and what `kyozo up
// --from-registry` pulls: the registry and environments on the command line. Exit codes as the other deploy
// commands: 1 failed, 2 bad input.
import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import type { Topology } from '../protocol';
import {
  eraseSecret,
  findService,
  listStoredSecrets,
  parseRegistry,
  promote,
  pullServices,
  pushable,
  pushServices,
  readWorkspaceConfig,
  selectServices,
  storeSecret,
  unknownEnvironment,
  type PushProgress,
  type RegistryContext,
} from '../engine/deploy';
import {
  builderChoice,
  CliInputError,
  dirAndServices,
  formatStatuses,
  loadTopology,
  orchestratorFor,
  parseBaseImages,
  progressPrinter,
  run,
  withDeployOptions,
  type DeployFlags,
} from './deploy-commands';

type RegistryFlags = DeployFlags & { registry?: string; json?: boolean; verbose?: boolean };

/** `--registry`, else KYOZO_REGISTRY, else the root kyozo.yaml's `registry:`. */
function registryFor(topology: Topology, flags: RegistryFlags, what: string): string {
  let registry: string | undefined;
  try {
    registry =
      parseRegistry(flags.registry, '--registry') ??
      parseRegistry(process.env.KYOZO_REGISTRY, 'KYOZO_REGISTRY') ??
      parseRegistry(readWorkspaceConfig(topology.root).registry, 'registry: in kyozo.yaml');
  } catch (e) {
    throw new CliInputError((e as Error).message);
  }
  if (!registry)
    throw new CliInputError(
      `${what} needs a registry: pass --registry <host[:port][/path]>, set KYOZO_REGISTRY, or add registry: to the ` +
        'kyozo.yaml at the workspace root',
    );
  return registry;
}

async function registryContext(
  orchestrator: ReturnType<typeof orchestratorFor>,
  topology: Topology,
  flags: RegistryFlags,
  what: string,
): Promise<RegistryContext> {
  builderChoice(flags); // a bad --builder is refused before anything else
  return {
    docker: orchestrator.docker,
    registry: registryFor(topology, flags, what),
    project: orchestrator.workspace(topology).imageProject,
    baseImages: parseBaseImages(flags.baseImage),
    builder: await orchestrator.builder(),
  };
}

/** `up --from-registry`: every image pulled (or refused) before `up` touches a container. */
export async function pullForUp(
  orchestrator: ReturnType<typeof orchestratorFor>,
  topology: Topology,
  services: string[],
  flags: RegistryFlags,
): Promise<Record<string, string>> {
  const ctx = await registryContext(orchestrator, topology, flags, '--from-registry');
  const name = (id: string) => topology.services.find((s) => s.id === id)?.name ?? id;
  const seen = new Set<string>();
  const images = await pullServices(ctx, topology, selectServices(topology, services), (id, line) => {
    if (!seen.has(id)) process.stderr.write(`pulling ${name(id)} from ${ctx.registry}\n`);
    seen.add(id);
    if (flags.verbose) process.stderr.write(`  ${line}\n`);
  });
  return images;
}

function megabytes(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** One line per state, and while pushing one per quarter of the bytes sent: readable on a terminal and in CI logs. */
function pushPrinter(topology: Topology): (p: PushProgress) => void {
  const name = (id: string) => topology.services.find((s) => s.id === id)?.name ?? id;
  const width = Math.max(8, ...topology.services.map((s) => s.name.length));
  const last = new Map<string, string>();
  return (p) => {
    // The engine learns each layer's size as it starts it, so early totals run behind: no figure until they settle.
    if (p.total && (p.current ?? 0) > p.total) return;
    const quarter = p.total ? Math.floor((4 * (p.current ?? 0)) / p.total) : -1;
    const key = `${p.state}/${quarter}`;
    if (last.get(p.serviceId) === key) return;
    last.set(p.serviceId, key);
    const bytes = p.total ? ` ${megabytes(p.current ?? 0)} of ${megabytes(p.total)}` : '';
    const message =
      p.state === 'pushing' && p.total ? '' : p.message ? ` ${p.message.split('\n')[0]!.slice(0, 120)}` : '';
    process.stdout.write(`${name(p.serviceId).padEnd(width)}  ${p.state.padEnd(8)}${bytes}${message}\n`);
  };
}

/** A secret's value: stdin to its end when piped, else typed at a prompt that does not echo it. */
async function readSecretValue(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let value = '';
    const done = (then: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      then();
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(() => resolve(value));
        if (ch === '\u0003') return done(() => process.exit(130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The workspace folder (real path) and its kyozo.yaml, refusing an environment it does not define. */
function secretWorkspace(dir: string, environment: string | undefined): string {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch {
    throw new CliInputError(`${dir} is not a folder Kyozo can read: pass the workspace with --dir`);
  }
  if (environment !== undefined) {
    const config = readWorkspaceConfig(root);
    if (!config.environments[environment]) throw unknownEnvironment(config, environment);
  }
  return root;
}

function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description(
      "environment secrets in your secret store (Docker's credential helper: credsStore in ~/.docker/config.json, " +
        'or KYOZO_SECRET_STORE), referenced from kyozo.yaml as secrets: { NAME: { from_store: <name> } }',
    );
  const dirOption = ['-d, --dir <dir>', 'workspace folder (default: current)', '.'] as const;
  secret
    .command('set')
    .argument('<environment>', 'environment of the root kyozo.yaml, e.g. staging')
    .argument('<name>', 'the name kyozo.yaml references (from_store: <name>)')
    .option(...dirOption)
    .description(
      "store a secret for this workspace's environment: typed at a prompt that does not echo it, or piped in",
    )
    .action((environment: string, name: string, flags: { dir: string }) =>
      run(async () => {
        const root = secretWorkspace(flags.dir, environment);
        const value = await readSecretValue(`value of ${name} for ${environment}: `);
        storeSecret(root, environment, name, value);
        process.stdout.write(`stored ${name} for ${environment} of ${root}\n`);
      }),
    );
  secret
    .command('rm')
    .argument('<environment>', 'environment of the root kyozo.yaml')
    .argument('<name>', 'the secret to remove')
    .option(...dirOption)
    .description("remove a secret of this workspace's environment from the store")
    .action((environment: string, name: string, flags: { dir: string }) =>
      run(async () => {
        const root = secretWorkspace(flags.dir, undefined);
        if (!eraseSecret(root, environment, name))
          throw new CliInputError(`the secret store has no ${name} for ${environment} of ${root}`);
        process.stdout.write(`removed ${name} for ${environment} of ${root}\n`);
      }),
    );
  secret
    .command('ls')
    .argument('[environment]', 'only this environment')
    .option(...dirOption)
    .option('--json', 'print them as JSON')
    .description("list the names (never the values) of this workspace's secrets in the store")
    .action((environment: string | undefined, flags: { dir: string; json?: boolean }) =>
      run(async () => {
        const root = secretWorkspace(flags.dir, undefined);
        const all = listStoredSecrets(root).filter((s) => !environment || s.environment === environment);
        if (flags.json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        else if (!all.length)
          process.stdout.write(`no secrets stored for ${environment ?? 'any environment'} of ${root}\n`);
        else for (const s of all) process.stdout.write(`${s.environment}  ${s.name}\n`);
      }),
    );
}

export function registerRegistryCommands(program: Command): void {
  registerSecretCommands(program);
  withDeployOptions(
    program
      .command('push')
      .argument('[dir-or-service...]', 'folder (default: current), then services to push (default: all built ones)'),
  )
    .description(
      'build (when changed) and push images to the registry as <registry>/<project>/<service>:<content hash>, ' +
        "with the user's Docker credentials",
    )
    .option(
      '--registry <registry>',
      'registry host[:port][/path] (default: KYOZO_REGISTRY, then registry: in kyozo.yaml)',
    )
    .option('--json', 'print the pushed references and digests as JSON')
    .action((args: string[], flags: RegistryFlags) =>
      run(async () => {
        const { dir, services } = dirAndServices(args, flags);
        const topology = await loadTopology(dir, flags);
        const orchestrator = orchestratorFor(flags);
        const ctx = await registryContext(orchestrator, topology, flags, 'kyozo push');
        const selected = services.length
          ? services.map((ref) => findService(topology, ref))
          : topology.services.filter(pushable);
        const skipped = selected.filter((s) => !pushable(s));
        if (skipped.length)
          throw new CliInputError(
            `${skipped.map((s) => s.name).join(', ')} run${skipped.length === 1 ? 's' : ''} an image Kyozo does not ` +
              `build (${skipped.map((s) => s.image).join(', ')}); push only built services`,
          );
        if (!selected.length) throw new CliInputError(`${topology.name} has no services Kyozo builds; nothing to push`);
        const results = await pushServices(ctx, topology, selected, flags.json ? undefined : pushPrinter(topology));
        if (flags.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
        else for (const r of results) process.stdout.write(`pushed ${r.reference}@${r.digest}\n`);
      }),
    );

  withDeployOptions(
    program
      .command('promote')
      .argument('<from>', 'environment whose running images are promoted, e.g. staging')
      .argument('<to>', 'environment to deploy them to, e.g. production')
      .argument('[service...]', 'services to promote (default: all that run in <from>), with what they depend on'),
  )
    .description(
      'deploy to <to> exactly the images <from> runs (no rebuild), once <from> is healthy; recorded in both ' +
        "environments' events",
    )
    .option('--json', 'print the promoted images and the statuses as JSON')
    .action((from: string, to: string, services: string[], flags: RegistryFlags) =>
      run(async () => {
        if (flags.env) throw new CliInputError('promote names its environments itself; leave out --env');
        const topology = await loadTopology(flags.dir ?? '.', flags);
        const orchestrator = orchestratorFor(flags);
        const printer = flags.json ? undefined : progressPrinter(topology, Boolean(flags.verbose));
        const result = await promote(orchestrator, topology, readWorkspaceConfig(topology.root), from, to, {
          services,
          onProgress: printer?.onProgress,
        }).finally(() => printer?.stop());
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        for (const i of result.images)
          process.stdout.write(`promoted ${i.serviceId}: ${i.digest ?? i.image} (${from} -> ${to})\n`);
        process.stdout.write(`\n${formatStatuses(result.statuses)}\n`);
      }),
    );
}
