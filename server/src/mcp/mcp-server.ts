// `kyozo mcp`: the engine's folder descriptions, repository map and topology for AI agents over the Model Context
// Protocol (stdio). Read tools are always offered; deploy, stop and logs only with --allow-actions, since they run
// containers. Inputs are checked by zod schemas (the SDK's own validator); a failure answers with its reason.
// @modelcontextprotocol/sdk is the protocol's reference implementation, which MCP clients are tested against.
import { relative, sep } from 'node:path';
// chokidar: watches a tree with inotify per folder while skipping ignored ones, which Node's recursive fs.watch cannot.
import { watch } from 'chokidar';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  AgentInputError,
  AnalyzeInputError,
  BASE_IMAGE_KEYS,
  compactTopology,
  DEFAULT_IGNORED_DIRS,
  DEFAULT_MAP_BUDGET,
  explain,
  findInWorkspace,
  FolderDescriber,
  FolderNotFoundError,
  isBaseImageKey,
  repoMap,
  ServiceIndex,
  UnknownServiceError,
  type BaseImages,
  type FolderDescription,
} from '../engine';
import { createOrchestrator } from '../engine/deploy';

export interface McpOptions {
  root: string;
  allowActions: boolean;
  dockerHost?: string;
  stateDir?: string;
  /** `runtime=image` pairs, as on the command line. */
  baseImages?: string[];
  /** Follow file changes so answers stay current (default true). */
  watch?: boolean;
}

export const READ_TOOLS = [
  'kyozo_topology',
  'kyozo_describe_folder',
  'kyozo_find',
  'kyozo_related',
  'kyozo_explain_service',
  'kyozo_status',
] as const;
export const ACTION_TOOLS = ['kyozo_deploy', 'kyozo_stop', 'kyozo_logs'] as const;

const MAX_LOG_LINES = 500;

const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
const invalid = (message: string) => new McpError(ErrorCode.InvalidParams, message);

function parseBaseImages(list: string[]): BaseImages {
  const out: BaseImages = {};
  for (const item of list) {
    const [runtime, image] = item.split('=', 2).map((x) => x.trim());
    if (!runtime || !image || !isBaseImageKey(runtime)) {
      throw new Error(
        `--base-image expects <runtime>=<image> with runtime one of ${BASE_IMAGE_KEYS.join(', ')}; got '${item}'`,
      );
    }
    out[runtime] = image;
  }
  return out;
}

/** Builds the server on an analysed workspace; `serveMcp` connects it to stdio. */
export function createKyozoMcpServer(describer: FolderDescriber, options: McpOptions): McpServer {
  const server = new McpServer({ name: 'kyozo', version: '0.1.0' });
  const changes = options.watch === false ? undefined : watchWorkspace(describer);
  const previousOnClose = server.server.onclose;
  server.server.onclose = () => {
    changes?.close();
    previousOnClose?.();
  };
  // Every tool answers after the changes seen so far are applied: an agent that just edited a file sees its edit.
  const registerTool = ((name: string, config: object, cb: (...args: unknown[]) => unknown) =>
    server.registerTool(name, config, (async (...args: unknown[]) => {
      await changes?.settled();
      return cb(...args);
    }) as never)) as unknown as typeof server.registerTool;
  const topology = () => describer.topology();
  const describe = async (folder: string): Promise<FolderDescription> => {
    try {
      return await describer.describe(folder, describer.root);
    } catch (err) {
      if (err instanceof FolderNotFoundError) throw invalid(err.message);
      throw err;
    }
  };
  const service = (ref: string) => {
    try {
      return ServiceIndex.of(topology()).require(ref);
    } catch (err) {
      if (err instanceof UnknownServiceError) throw invalid(err.message);
      throw err;
    }
  };
  let orchestrator: ReturnType<typeof createOrchestrator> | undefined;
  const engine = () =>
    (orchestrator ??= createOrchestrator({
      dockerHost: options.dockerHost,
      stateDir: options.stateDir,
      baseImages: parseBaseImages(options.baseImages ?? []),
    }));

  registerTool(
    'kyozo_topology',
    {
      description:
        'The services of the workspace: type, language, frameworks, ports, start command, dependencies, ' +
        'deployment order, patterns and problems.',
      inputSchema: {},
    },
    async () => json(compactTopology(topology())),
  );

  registerTool(
    'kyozo_describe_folder',
    {
      description:
        'Describe any folder: its purpose (service, library, module, tests, docs, infrastructure, ...), a ' +
        'summary, stack, capabilities (HTTP routes, gRPC methods, queues, schedules, commands, exports), env names, ' +
        'dependencies, tests, deployment files and related folders, each with evidence (file, line, reason).',
      inputSchema: {
        folder: z.string().min(1).describe('folder relative to the workspace root, such as src/cartservice'),
      },
    },
    async ({ folder }) => json(await describe(folder)),
  );

  registerTool(
    'kyozo_find',
    {
      description:
        'Find which service serves a route (`GET /cart`, `/cart`, `CartService/AddItem`), reads an environment ' +
        'variable, talks to a service, or owns a file. Give exactly one of route, env, talksTo, file.',
      inputSchema: {
        route: z.string().min(1).optional(),
        env: z.string().min(1).optional(),
        talksTo: z.string().min(1).optional(),
        file: z.string().min(1).optional(),
      },
    },
    async (args) => {
      try {
        return json(await findInWorkspace(describer, args));
      } catch (err) {
        if (err instanceof AgentInputError || err instanceof FolderNotFoundError || err instanceof UnknownServiceError)
          throw invalid(err.message);
        throw err;
      }
    },
  );

  registerTool(
    'kyozo_related',
    {
      description: 'Folders related to a folder, strongest first: calls, shared .proto, tests, deployment files.',
      inputSchema: { folder: z.string().min(1) },
    },
    async ({ folder }) => {
      const d = await describe(folder);
      return json({ folder: d.folder, related: d.related.value, suggestions: d.suggestions.value });
    },
  );

  registerTool(
    'kyozo_explain_service',
    {
      description:
        'Explain a service (by name, id or folder): every detected fact with the file and line it came from.',
      inputSchema: { service: z.string().min(1) },
    },
    async ({ service: ref }) => {
      const s = service(ref);
      const x = explain(topology(), s.id, describer.root);
      return json({ summary: x.summary, facts: x.facts });
    },
  );

  registerTool(
    'kyozo_status',
    {
      description:
        'Deployment status of every service (state, health, replicas, published ports) from the Docker engine.',
      inputSchema: {},
    },
    async () => {
      const statuses = await engine().status(topology(), { stats: false });
      return json(
        statuses.map((s) => ({
          service: s.name,
          state: s.state,
          health: s.health,
          replicas: s.replicas,
          ports: s.ports,
          message: s.message,
        })),
      );
    },
  );

  if (options.allowActions) {
    registerTool(
      'kyozo_deploy',
      {
        description:
          'Build and start services (and what they depend on) on the Docker engine; all services when none are named.',
        inputSchema: { services: z.array(z.string().min(1)).max(200).optional() },
      },
      async ({ services }) => {
        const ids = services?.map((ref) => service(ref).id);
        const statuses = await engine().up(topology(), { services: ids });
        return json(
          statuses.map((s) => ({
            service: s.name,
            state: s.state,
            health: s.health,
            ports: s.ports,
            message: s.message,
          })),
        );
      },
    );
    registerTool(
      'kyozo_stop',
      {
        description: 'Stop one service, or every running service when none is named.',
        inputSchema: { service: z.string().min(1).optional() },
      },
      async ({ service: ref }) => {
        const statuses = ref ? [await engine().stop(topology(), service(ref).id)] : await engine().stopAll(topology());
        return json(statuses.map((s) => ({ service: s.name, state: s.state })));
      },
    );
    registerTool(
      'kyozo_logs',
      {
        description: `The last lines a service's containers printed (at most ${MAX_LOG_LINES}).`,
        inputSchema: { service: z.string().min(1), tail: z.number().int().min(1).max(MAX_LOG_LINES).optional() },
      },
      async ({ service: ref, tail }) => {
        const lines: string[] = [];
        for await (const line of engine().logs(topology(), service(ref).id, { follow: false, tail: tail ?? 100 })) {
          lines.push(line);
          if (lines.length >= MAX_LOG_LINES) break;
        }
        return { content: [{ type: 'text' as const, text: lines.join('\n') || '(no output)' }] };
      },
    );
  }

  server.registerResource(
    'repo-map',
    'kyozo://repo-map',
    {
      description: `The repository map: services, then what they use, then the rest, in ${DEFAULT_MAP_BUDGET} tokens.`,
      mimeType: 'text/markdown',
    },
    async (uri) => ({
      contents: [
        { uri: uri.href, mimeType: 'text/markdown', text: repoMap(topology(), await describer.describeAll()).text },
      ],
    }),
  );
  server.registerResource(
    'topology',
    'kyozo://topology',
    {
      description: 'The full Topology JSON: services, edges with evidence, libraries, groups, order, problems.',
      mimeType: 'application/json',
    },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(topology()) }] }),
  );
  return server;
}

/**
 * Watches the workspace (chokidar, as the language server does for clients that cannot: inotify per folder, skipping
 * the engine's ignored folders) and applies changes in batches, one update at a time.
 */
function watchWorkspace(describer: FolderDescriber): { settled: () => Promise<void>; close: () => void } {
  const ignored = (p: string) =>
    relative(describer.root, p)
      .split(sep)
      .some((part) => DEFAULT_IGNORED_DIRS.has(part));
  const watcher = watch(describer.root, { ignoreInitial: true, followSymlinks: false, ignored });
  let batch: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  const flush = () => {
    timer = undefined;
    const paths = batch;
    batch = [];
    chain = chain
      .then(() => describer.update(paths))
      .then(
        () => undefined,
        (err: unknown) => {
          process.stderr.write(`kyozo mcp: could not apply changes to ${paths.join(', ')}: ${String(err)}\n`);
        },
      );
  };
  watcher.on('all', (_event, p) => {
    batch.push(p);
    timer ??= setTimeout(flush, 50);
  });
  // Changes made before the watcher has every folder are lost: the first answers wait for it to be ready.
  const ready = new Promise<void>((resolve) => {
    watcher.on('ready', resolve);
    watcher.on('error', (e) => {
      process.stderr.write(`kyozo mcp: cannot watch ${describer.root}: ${String(e)}\n`);
      resolve();
    });
  });
  return {
    // Waits out the batch being gathered rather than cutting it short: a write shows up as several events (truncate,
    // then data), and applying the first alone would read a half-written file.
    settled: async () => {
      await ready;
      while (timer) await new Promise((resolve) => setTimeout(resolve, 10));
      await chain;
    },
    close: () => void watcher.close(),
  };
}

/** Analyses the workspace, then serves it on stdin/stdout until the client disconnects. */
export async function serveMcp(options: McpOptions): Promise<void> {
  let describer: FolderDescriber;
  try {
    describer = await FolderDescriber.open(options.root);
  } catch (err) {
    if (err instanceof AnalyzeInputError) {
      process.stderr.write(`kyozo mcp: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const server = createKyozoMcpServer(describer, options);
  await server.connect(new StdioServerTransport());
  process.stderr.write(
    `kyozo mcp: serving ${describer.root} (${describer.topology().services.length} services` +
      `${options.allowActions ? ', actions allowed' : ''})\n`,
  );
}
