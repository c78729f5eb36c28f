// The contracts shared by the engine, the CLI, the language server, the extension and the webviews.
// This is the only file where a method name (`kyozo/...`) or a command id (`kyozo.*`) is written: each request and
// notification is declared once as a typed descriptor that both sides pass to sendRequest/onRequest, so a result
// type the server and the client disagree on fails the type-check. Its only run-time dependency is the JSON-RPC
// message classes, so the engine, the CLI and the webview bundle can import it.
// The message classes alone (two small files, no Node.js streams), not vscode-jsonrpc's main, which needs Node.
import { NotificationType, RequestType } from 'vscode-jsonrpc/lib/common/messages';

// ───────────────────────────── Topology ─────────────────────────────

/** Bumped on any incompatible change to the Topology JSON. */
export const TOPOLOGY_VERSION = 1;

export type ServiceType =
  | 'containerized' // a Dockerfile and nothing more specific
  | 'compose_stack' // a folder whose compose file groups several services (used for groups)
  | 'nodejs'
  | 'python'
  | 'golang'
  | 'rust'
  | 'java'
  | 'php'
  | 'ruby'
  | 'dotnet'
  | 'elixir'
  | 'gleam'
  | 'deno'
  | 'cpp'
  | 'static'
  | 'proxy'
  | 'infrastructure'
  | 'worker' // starts, listens on nothing and keeps running (a consumer, a scheduler, a bot)
  | 'job' // starts, listens on nothing and runs to completion (a migration, an import, a report)
  | 'database'
  | 'cache'
  | 'queue';

/** Why the engine believes something: a file relative to the topology root, a 1-based line, a sentence. */
export interface Evidence {
  file: string;
  line?: number;
  reason: string;
}

export type PortSource =
  | 'kyozo.yaml'
  | 'compose'
  | 'dockerfile'
  | 'procfile'
  | 'script'
  | 'config'
  | 'code'
  | 'image-default'
  | 'framework-default';

export interface PortSpec {
  /** Port the process listens on inside the container. */
  container: number;
  protocol: 'tcp' | 'udp';
  /** Host port requested by the user (compose `8080:80`, kyozo.yaml); the orchestrator allocates one otherwise. */
  host?: number;
  source: PortSource;
  /** Environment variable that overrides the port at run time (`PORT`), when the code reads one. */
  envVar?: string;
  evidence: Evidence;
}

export interface StartSpec {
  /** Shell-free argv when known, else a single shell string in `command`. */
  command: string;
  argv?: string[];
  source: 'kyozo.yaml' | 'compose' | 'dockerfile' | 'procfile' | 'script' | 'manifest' | 'framework-default';
  evidence: Evidence;
}

export interface BuildSpec {
  /** Build context folder, relative to the root ('' for the root itself). */
  context: string;
  /** Dockerfile relative to the root; absent when Kyozo must generate one. */
  dockerfile?: string;
  /** Compose build target / args, when given. */
  target?: string;
  args?: Record<string, string>;
  /** Toolchain for a generated Dockerfile. */
  runtime?: Runtime;
  packageManager?:
    | 'npm'
    | 'pnpm'
    | 'yarn'
    | 'bun'
    | 'pip'
    | 'poetry'
    | 'uv'
    | 'pdm'
    | 'pipenv'
    | 'go'
    | 'cargo'
    | 'maven'
    | 'gradle'
    | 'composer'
    | 'bundler'
    | 'dotnet';
  /** Base image override from kyozo.yaml. */
  baseImage?: string;
  /** kyozo.yaml `build:` command: runs in the generated image's build stage in place of Kyozo's own build step. */
  command?: string;
  /** Node.js: how a generated image builds and serves the package. */
  node?: NodeBuildPlan;
  evidence: Evidence;
}

export interface NodeBuildPlan {
  /** The package folder relative to the build context, when the context is the workspace root it belongs to. */
  member?: string;
  /** The package script the build stage runs (`build`); dev dependencies are pruned after it. */
  buildScript?: string;
  /** Built files (relative to the package) served by a static server, `index.html` for unknown routes. */
  staticDir?: string;
  /** Next.js `output: 'standalone'`: the image runs `.next/standalone/server.js` with only the traced files. */
  nextStandalone?: boolean;
  /** A server build that runs without node_modules (Nitro's `.output`): the run-time image holds only this folder. */
  serverOutput?: string;
  /** package.json `engines.node` (the member's, else its workspace root's): the image checks its Node against it. */
  nodeEngine?: string;
  /** Yarn 2+ with Plug'n'Play (no node_modules): the image runs Node with the project's `.pnp.cjs` loader. */
  yarnPnp?: boolean;
}

export interface EnvVar {
  name: string;
  /** Literal value when one is written down; secret-looking values are kept out of UI by `secret`. */
  value?: string;
  secret: boolean;
  /** The written value is a `${VAR}` interpolation: what `value` shows was resolved, not typed into the file. */
  interpolated?: boolean;
  /** Where the name was found: compose environment, .env file, code read, kyozo.yaml. */
  evidence: Evidence;
}

export interface HealthCheck {
  /** `grpc`: the standard gRPC health service (grpc.health.v1.Health/Check) on `port`. */
  kind: 'http' | 'tcp' | 'command' | 'grpc' | 'none';
  /** HTTP path such as `/healthz`. */
  path?: string;
  port?: number;
  /** For `command`: argv or shell string, as written (compose `test`, Dockerfile HEALTHCHECK). */
  command?: string[];
  intervalSeconds?: number;
  timeoutSeconds?: number;
  retries?: number;
  evidence: Evidence;
}

export interface Resources {
  memoryMb?: number;
  cpus?: number;
}

/** kyozo.yaml `scaling`: replicas between min and max, added or removed to keep average CPU near the target. */
export interface Scaling {
  min: number;
  max: number;
  /** Percent of the CPU request (default 70). */
  targetCpu: number;
  /** How long load must stay low before replicas are removed. */
  cooldownSeconds?: number;
}

/** The toolchain a generated Dockerfile is built with. */
export type Runtime =
  | 'node'
  | 'python'
  | 'go'
  | 'rust'
  | 'java'
  | 'php'
  | 'ruby'
  | 'dotnet'
  | 'static'
  | 'deno'
  | 'elixir'
  | 'gleam'
  | 'cpp';

export interface Service {
  /** Stable id: folder path relative to the root ('.' for the root); image-only compose services use `<compose file>#<name>`. */
  id: string;
  /** DNS-safe name, unique in the topology; used as network alias and compose service name. */
  name: string;
  /** Folder relative to the root ('.' for the root). Image-only services carry the compose file's folder. */
  folder: string;
  type: ServiceType;
  language?: string;
  frameworks: string[];
  /** 0..1: how sure the engine is that this folder is a runnable service of this type. */
  confidence: number;
  evidence: Evidence[];
  ports: PortSpec[];
  start?: StartSpec;
  build?: BuildSpec;
  /** Image to run for image-only services (postgres:16, redis:7). */
  image?: string;
  env: EnvVar[];
  healthCheck?: HealthCheck;
  replicas: number;
  resources?: Resources;
  /** Autoscaling bounds from kyozo.yaml `scaling`. */
  scaling?: Scaling;
  /** Volumes declared for the service (compose, or a data path for a database). */
  volumes?: { target: string; source?: string; evidence: Evidence }[];
  /** Library packages of the same workspace this service uses (ids into `libraries`). */
  libraries?: string[];
  /** The monorepo workspace or compose group this service belongs to (id into `groups`). */
  group?: string;
  /** Indicator files that made this folder a service, relative to the root. */
  indicators: string[];
  /**
   * Set on a service only a compose file declares (an image such as postgres:16, or a second service built from a
   * folder that already has one): that compose file, relative to the root, and the service's name in it. Its id is
   * `<file>#<name>`; it lives in the compose file's folder without being that folder's service.
   */
  composeOnly?: { file: string; name: string };
}

/**
 * `grpc`: a generated client of a proto service another service serves; `broker`: a queue, topic, channel or task name
 * one service sends to and another receives from (the edge points from the sender to the receiver and does not order
 * the deployment).
 */
export type EdgeKind =
  'compose' | 'env-url' | 'driver' | 'code-ref' | 'grpc' | 'broker' | 'workspace-package' | 'proxy-upstream';

export interface Edge {
  /** Dependent service id. */
  from: string;
  /** Dependency service id. */
  to: string;
  kind: EdgeKind;
  evidence: Evidence[];
  /** For compose depends_on: the condition asked for. */
  condition?: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  /** Environment variable that carries the address, when the edge came from one. */
  envVar?: string;
  /** How sure the engine is of the dependency, 0..1: declared 1, a value naming the host 0.9, a name match 0.6-0.85. */
  confidence?: number;
}

export interface Library {
  id: string;
  name: string;
  folder: string;
  language?: string;
  evidence: Evidence[];
}

export interface Group {
  /** Folder relative to the root. */
  id: string;
  kind: 'compose' | 'workspace';
  /** npm/pnpm/yarn workspaces, nx, turborepo, go.work, cargo workspace, compose. */
  tool: string;
  members: string[];
  evidence: Evidence[];
}

export type PatternKind =
  | 'reverse-proxy'
  | 'api-gateway'
  | 'frontend-backend'
  | 'microservices'
  | 'database'
  | 'cache'
  | 'background-workers'
  | 'monolith'
  | 'monorepo';

export interface Pattern {
  kind: PatternKind;
  services: string[];
  description: string;
}

export type ProblemSeverity = 'error' | 'warning' | 'info';

export interface Problem {
  severity: ProblemSeverity;
  /** Stable machine code: `yaml-parse`, `dependency-cycle`, `unknown-depends-on`, `port-conflict`, `file-too-large`, ... */
  code: string;
  message: string;
  file?: string;
  line?: number;
  /** 1-based column and end position when exactly known. */
  column?: number;
  endLine?: number;
  endColumn?: number;
  serviceId?: string;
}

export interface Recommendation {
  code:
    | 'missing-expose'
    | 'no-health-endpoint'
    | 'no-grpc-health'
    | 'no-dockerfile'
    | 'secret-literal'
    | 'missing-database'
    | 'unknown-service-address'
    | 'ambiguous-grpc-server'
    | string;
  message: string;
  serviceId?: string;
  file?: string;
  line?: number;
}

export interface Topology {
  version: typeof TOPOLOGY_VERSION;
  /** Absolute path of the analysed folder. */
  root: string;
  /** Workspace name (folder name, DNS-safe), used as the compose project name. */
  name: string;
  generatedAt: string;
  services: Service[];
  edges: Edge[];
  libraries: Library[];
  groups: Group[];
  patterns: Pattern[];
  /** Waves of service ids; every service in wave n depends only on services in earlier waves. */
  order: string[][];
  problems: Problem[];
  recommendations: Recommendation[];
  stats: { files: number; folders: number; durationMs: number };
  /**
   * Set on the topology of one deployment environment (the root kyozo.yaml's `environments:`): it deploys as the
   * project `<baseName>-<name>`, with its own network, containers, state folder and events.
   */
  environment?: { name: string; baseName: string; confirm: boolean };
}

/** What `Analyzer.update` reports beside the new topology. */
export interface TopologyChange {
  added: string[];
  removed: string[];
  changed: string[];
  /** Folders that were re-analysed. */
  reanalysed: string[];
}

// ───────────────────────────── Live status and events ─────────────────────────────

export type ServiceState = 'not-deployed' | 'building' | 'starting' | 'running' | 'unhealthy' | 'stopped' | 'error';
export type HealthState = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface PublishedPort {
  container: number;
  host: number;
  protocol: 'tcp' | 'udp';
  /** `http://127.0.0.1:<host>` for TCP ports. */
  url?: string;
}

export interface ReplicaStatus {
  containerId: string;
  name: string;
  state: string;
  health: HealthState;
  startedAt?: string;
  exitCode?: number;
}

export interface ServiceStatus {
  serviceId: string;
  name: string;
  state: ServiceState;
  health: HealthState;
  replicas: { running: number; desired: number };
  ports: PublishedPort[];
  containers: ReplicaStatus[];
  startedAt?: string;
  cpuPercent?: number;
  memoryBytes?: number;
  /** Human-readable reason for error/unhealthy, with the exit code when there is one. */
  message?: string;
}

export type DeploymentEventType =
  | 'deployment_started'
  | 'deployment_completed'
  | 'deployment_failed'
  | 'service_started'
  | 'service_stopped'
  | 'service_scaled'
  | 'health_check_failed'
  | 'health_changed'
  /** Kyozo Share: a guest asked the host to act on a service (the message names who, and what came of it). */
  | 'remote_action';

export interface DeploymentEvent {
  id: string;
  /** ISO timestamp. */
  at: string;
  type: DeploymentEventType;
  workspace: string;
  serviceId?: string;
  durationMs?: number;
  message?: string;
  /** Failing build step, last log lines, replica counts, health state, ... */
  details?: Record<string, unknown>;
}

// ───────────────────────────── Language server ↔ extension ─────────────────────────────

/** What the client sends as initializationOptions. */
export interface InitializationOptions {
  settings?: Partial<KyozoSettings>;
  /**
   * The user trusts the workspace's authors. Without it (absent or false) the server analyses but never deploys,
   * starts, stops, scales or reads logs, and ignores autoDeploy, until kyozo/workspaceTrust says otherwise.
   */
  workspaceTrusted?: boolean;
}

export interface WorkspaceTrustParams {
  trusted: boolean;
}

export interface LogOutputParams {
  /** Returned by ServerCommands.logs. */
  streamId: string;
  text: string;
  /** Set on the last message of the stream (the container stopped or the stream was closed). */
  done?: boolean;
}

export interface StopLogsParams {
  streamId: string;
}

/** The `kyozo.*` settings, sent as initializationOptions.settings and with workspace/didChangeConfiguration. */
export interface KyozoSettings {
  docker: { host?: string };
  /** Base images for generated Dockerfiles, per runtime (`node`, `python`, ...). */
  baseImages: Record<string, string>;
  /** The engine's builder for images: `auto` (BuildKit when the engine has it), `buildkit` or `classic`. */
  build?: { builder?: 'auto' | 'buildkit' | 'classic' };
  /** Default limits when a service declares none. */
  defaults: { memoryMb?: number; cpus?: number };
  /** Containers started, stopped or removed at once (`kyozo up --parallel`; default 6). */
  deploy?: { parallelism?: number };
  /** Images Kyozo runs itself: `gateway`, the nginx in front of scaled services (default nginx:1.27-alpine). */
  images?: { gateway?: string };
  /** The deployment environment (of the root kyozo.yaml's `environments:`) commands act on; none: the workspace's own. */
  environment?: string;
  /** Registry images are pushed to (`kyozo.registry`); the root kyozo.yaml's `registry:` when unset. */
  registry?: string;
  /** Extra gitignore-style globs the analysis skips. */
  ignore: string[];
  /** Deploy every service after the first analysis (off by default). */
  autoDeploy: boolean;
}

export interface ExplainParams {
  folderUri: string;
  /** A service id, or a folder URI inside the workspace folder. */
  serviceId?: string;
  uri?: string;
}

export interface EventsParams {
  folderUri: string;
  serviceId?: string;
}

export interface ComposeParams {
  folderUri: string;
}

export interface TopologyParams {
  /** Workspace folder URI the topology belongs to. */
  folderUri: string;
  topology: Topology;
}

export interface ServiceStatusParams {
  folderUri: string;
  statuses: ServiceStatus[];
}

export interface DeploymentEventParams {
  folderUri: string;
  event: DeploymentEvent;
}

export interface AnalysisFailedParams {
  folderUri: string;
  /** What failed and what to do next. */
  message: string;
}

export interface EngineStateParams {
  reachable: boolean;
  /** Why not, and how to fix it, when unreachable. */
  message?: string;
  host?: string;
}

/** What kyozo/explain answers: the service it resolved (from an id or a folder URI) and its description. */
export interface ExplainResult {
  serviceId: string;
  markdown: string;
}

/** server → client: a workspace folder's topology changed. */
export const TopologyNotification = new NotificationType<TopologyParams>('kyozo/topology');
/** server → client: live status of services. */
export const ServiceStatusNotification = new NotificationType<ServiceStatusParams>('kyozo/serviceStatus');
/** server → client: a deployment event was recorded. */
export const DeploymentEventNotification = new NotificationType<DeploymentEventParams>('kyozo/deploymentEvent');
/** server → client: the Docker engine became reachable or unreachable. */
export const EngineStateNotification = new NotificationType<EngineStateParams>('kyozo/engineState');
/** server → client: a workspace folder could not be analysed (the view shows why, not "analysing…"). */
export const AnalysisFailedNotification = new NotificationType<AnalysisFailedParams>('kyozo/analysisFailed');
/** server → client: a chunk of a log stream started with ServerCommands.logs. */
export const LogOutputNotification = new NotificationType<LogOutputParams>('kyozo/logOutput');
/** client → server: stop following a log stream. */
export const StopLogsNotification = new NotificationType<StopLogsParams>('kyozo/stopLogs');
/** client → server: the user trusted the workspace (VS Code's onDidGrantWorkspaceTrust). */
export const WorkspaceTrustNotification = new NotificationType<WorkspaceTrustParams>('kyozo/workspaceTrust');
/** client → server: explanation of a service or folder; null when neither names a service. */
export const ExplainRequest = new RequestType<ExplainParams, ExplainResult | null, void>('kyozo/explain');
/** client → server: recent deployment events. */
export const EventsRequest = new RequestType<EventsParams, DeploymentEvent[], void>('kyozo/events');
/** client → server: generated compose YAML for a workspace folder (its generated Dockerfiles are written beside). */
export const ComposeRequest = new RequestType<ComposeParams, string, void>('kyozo/compose');

/** kyozo/describeFolder: PathWalker's description of one folder, from the analysis the server already holds. */
export interface DescribeFolderParams {
  /** The folder: a file URI, or a path relative to the workspace folder. */
  folder: string;
  /** The workspace folder; found from `folder` when it is a URI. */
  folderUri?: string;
}
export interface DescribeFolderResult {
  folderUri: string;
  /** Root-relative posix path (`.` for the root). */
  folder: string;
  purpose: string;
  confidence: number;
  summary: string;
  /** The whole description as Markdown, with evidence links to file:line. */
  markdown: string;
}
/** kyozo/agentTool: one of kyozo mcp's tools (kyozo_find, kyozo_describe_folder, ...), answered as JSON text. */
export interface AgentToolParams {
  tool: string;
  input: Record<string, unknown>;
  folderUri?: string;
}
export interface AgentToolResult {
  text: string;
}
/** client → server: describe a folder; fails with the reason when it is not a folder of an open workspace. */
export const DescribeFolderRequest = new RequestType<DescribeFolderParams, DescribeFolderResult, void>(
  'kyozo/describeFolder',
);
/** client → server: run an agent tool (the language-model tools and the @kyozo participant). */
export const AgentToolRequest = new RequestType<AgentToolParams, AgentToolResult, void>('kyozo/agentTool');

/** The method names, for code that routes messages by name (a test client recording every notification). */
export const Methods = {
  topology: TopologyNotification.method,
  serviceStatus: ServiceStatusNotification.method,
  deploymentEvent: DeploymentEventNotification.method,
  engineState: EngineStateNotification.method,
  analysisFailed: AnalysisFailedNotification.method,
  explain: ExplainRequest.method,
  events: EventsRequest.method,
  compose: ComposeRequest.method,
  logOutput: LogOutputNotification.method,
  stopLogs: StopLogsNotification.method,
  workspaceTrust: WorkspaceTrustNotification.method,
} as const;

// ───────────────────────────── Commands ─────────────────────────────

/** `workspace/executeCommand` commands the server implements; arguments: [folderUri, serviceId?, extra?]. */
export const ServerCommands = {
  deploy: 'kyozo.server.deploy',
  deployAll: 'kyozo.server.deployAll',
  start: 'kyozo.server.start',
  stop: 'kyozo.server.stop',
  stopAll: 'kyozo.server.stopAll',
  restart: 'kyozo.server.restart',
  scale: 'kyozo.server.scale',
  logs: 'kyozo.server.logs',
  analyze: 'kyozo.server.analyze',
  generateDockerfile: 'kyozo.server.generateDockerfile',
  push: 'kyozo.server.push',
  environments: 'kyozo.server.environments',
  registryImages: 'kyozo.server.registryImages',
  setScaling: 'kyozo.server.setScaling',
  secrets: 'kyozo.server.secrets',
  setSecret: 'kyozo.server.setSecret',
} as const;

/**
 * A value sealed to the language server's key (initialize result: capabilities.experimental.kyozo.sealingKey): X25519
 * with a key made per value (`epk`, SPKI DER), HKDF-SHA256, AES-256-GCM; all base64.
 */
/** HKDF's info for a SealedValue's key: both sides derive it with this. */
export const SEALED_VALUE_INFO = 'kyozo sealed value v1';

export interface SealedValue {
  epk: string;
  iv: string;
  ct: string;
  tag: string;
}

/** What the server adds to its initialize result under capabilities.experimental.kyozo. */
export interface KyozoExperimentalCapabilities {
  /** The key secrets are sealed to before they go over LSP (SealedValue). */
  sealingKey: string;
}

/** A secret-store entry's name (`from_store`): letters, digits, `_ . -`, 1–64 characters; the schema's pattern. */
export const STORE_SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/**
 * The secret-store entries the root kyozo.yaml names, and whether each is set; `error` when the store fails, and
 * `unusable` when it cannot be used at all (none set, its helper not installed or not answering).
 */
export interface StoreSecretsListing {
  store?: string;
  secrets: StoreSecretInfo[];
  error?: string;
  unusable?: boolean;
}

/** An entry of the user's secret store that the root kyozo.yaml names (`from_store`) for one environment. */
export interface StoreSecretInfo {
  environment: string;
  name: string;
  /** The variables that take its value. */
  variables: string[];
  /** Whether the store holds it for this workspace and environment (never its value). */
  stored: boolean;
}

/** The workspace's environments and registry as the root kyozo.yaml and the settings name them. */
export interface EnvironmentInfo {
  /** `kyozo.environment`, when set. */
  active?: string;
  environments: string[];
  /** Deploying to the active environment asks first (production, or `confirm: true`). */
  confirm: boolean;
  registry?: string;
  /** Why the root kyozo.yaml (or the active environment) cannot be used, when it cannot. */
  error?: string;
}

/** One service's image in the registry: its local image, its reference there and the digest it was pushed with. */
export interface RegistryImageInfo {
  serviceId: string;
  localImage?: string;
  reference: string;
  digest?: string;
}

export interface PushedImage {
  serviceId: string;
  reference: string;
  digest: string;
}

export type ServerCommand = (typeof ServerCommands)[keyof typeof ServerCommands];

/** One workspace folder's outcome of ServerCommands.analyze. */
export interface AnalyzeResult {
  folderUri: string;
  services: number;
  durationMs?: number;
  /** Why the analysis failed, when it did. */
  error?: string;
}

/** What each server command takes after `workspace/executeCommand`'s command name, and what it answers. */
export interface ServerCommandSignatures {
  [ServerCommands.deploy]: { args: [folderUri: string, serviceId: string]; result: ServiceStatus[] };
  [ServerCommands.deployAll]: { args: [folderUri: string]; result: ServiceStatus[] };
  [ServerCommands.start]: { args: [folderUri: string, serviceId: string]; result: ServiceStatus };
  [ServerCommands.stop]: { args: [folderUri: string, serviceId: string]; result: ServiceStatus };
  [ServerCommands.stopAll]: { args: [folderUri: string]; result: null };
  [ServerCommands.restart]: { args: [folderUri: string, serviceId: string]; result: ServiceStatus };
  [ServerCommands.scale]: { args: [folderUri: string, serviceId: string, replicas: number]; result: ServiceStatus };
  /** The stream's chunks arrive as LogOutputNotification with this streamId. */
  [ServerCommands.logs]: { args: [folderUri: string, serviceId: string]; result: { streamId: string } };
  /** Every workspace folder when none is named. */
  [ServerCommands.analyze]: { args: [folderUri?: string]; result: AnalyzeResult[] };
  [ServerCommands.generateDockerfile]: { args: [folderUri: string, serviceId: string]; result: { uri: string } };
  /** Every service Kyozo builds when none is named. */
  [ServerCommands.push]: { args: [folderUri: string, serviceId?: string]; result: PushedImage[] };
  [ServerCommands.environments]: { args: [folderUri: string]; result: EnvironmentInfo };
  [ServerCommands.registryImages]: { args: [folderUri: string]; result: RegistryImageInfo[] };
  [ServerCommands.secrets]: { args: [folderUri: string]; result: StoreSecretsListing };
  /** Stores a secret for an environment of the root kyozo.yaml in the user's secret store, the value sealed. */
  [ServerCommands.setSecret]: {
    args: [folderUri: string, environment: string, name: string, value: SealedValue];
    result: { environment: string; name: string; store: string };
  };
  /** Writes (or, with null, removes) the `scaling` block of the service's kyozo.yaml; answers the file's URI. */
  [ServerCommands.setScaling]: {
    args: [folderUri: string, serviceId: string, scaling: Scaling | null];
    result: { uri: string };
  };
}

/**
 * Why `value` is not a `scaling` the editor may write (min and max 1..MAX_REPLICAS with min <= max, target_cpu
 * 1..100, cooldown 0 s or more; the kyozo.yaml schema's bounds), or undefined when it is one.
 */
export function scalingProblem(value: unknown): string | undefined {
  const v = value as Partial<Scaling> | null;
  if (!v || typeof v !== 'object') return 'scaling must be an object with min, max, targetCpu';
  const whole = (n: unknown, lo: number, hi: number) =>
    typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;
  if (!whole(v.min, 1, MAX_REPLICAS))
    return `min must be a whole number from 1 to ${MAX_REPLICAS}, got "${String(v.min)}"`;
  if (!whole(v.max, 1, MAX_REPLICAS))
    return `max must be a whole number from 1 to ${MAX_REPLICAS}, got "${String(v.max)}"`;
  if (v.min! > v.max!) return `min (${v.min}) must not be above max (${v.max})`;
  if (!whole(v.targetCpu, 1, 100))
    return `target CPU must be a whole percentage from 1 to 100, got "${String(v.targetCpu)}"`;
  if (v.cooldownSeconds !== undefined && !whole(v.cooldownSeconds, 0, 86_400))
    return `cooldown must be a whole number of seconds from 0 to 86400, got "${String(v.cooldownSeconds)}"`;
  return undefined;
}

/** More replicas than this on one engine is almost always a typo, and each one holds host ports. */
export const MAX_REPLICAS = 50;

/** Why `value` is not a replica count ServerCommands.scale accepts (to show as typed), or undefined when it is one. */
export function replicaCountProblem(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value.trim() : undefined;
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_REPLICAS) return undefined;
  return `replicas must be a whole number from 0 to ${MAX_REPLICAS}, got "${String(value)}"`;
}

/** Server commands that act on the Docker engine, each with its name for messages: refused in an untrusted workspace. */
export const EngineCommandNames: Readonly<Record<string, string>> = {
  [ServerCommands.deploy]: 'Deploy',
  [ServerCommands.deployAll]: 'Deploy All',
  [ServerCommands.start]: 'Start',
  [ServerCommands.stop]: 'Stop',
  [ServerCommands.stopAll]: 'Stop All',
  [ServerCommands.restart]: 'Restart',
  [ServerCommands.scale]: 'Scale',
  [ServerCommands.logs]: 'Show Logs',
  [ServerCommands.push]: 'Push',
};

/**
 * The extension's commands (package.json `contributes.commands`), which the server's CodeLens and the topology
 * webview's actions also invoke: the client owns terminals, browsers and quick picks.
 */
/** Kyozo Share's commands, registered by extension/src/share/ (not by the service command table). */
export const ShareCommands = {
  signIn: 'kyozo.share.signIn',
  createAccount: 'kyozo.share.createAccount',
  signOut: 'kyozo.share.signOut',
  createTeam: 'kyozo.share.createTeam',
  invite: 'kyozo.share.invite',
  joinTeam: 'kyozo.share.joinTeam',
  manageMembers: 'kyozo.share.manageMembers',
  showFingerprint: 'kyozo.share.showFingerprint',
  shareWorkspace: 'kyozo.share.shareWorkspace',
  stopSharing: 'kyozo.share.stopSharing',
  joinWorkspace: 'kyozo.share.joinWorkspace',
  followParticipant: 'kyozo.share.followParticipant',
  stopFollowing: 'kyozo.share.stopFollowing',
  goToParticipant: 'kyozo.share.goToParticipant',
} as const;

export type ShareCommand = (typeof ShareCommands)[keyof typeof ShareCommands];

export const ClientCommands = {
  analyze: 'kyozo.analyze',
  deployService: 'kyozo.deployService',
  deployAll: 'kyozo.deployAll',
  stopAll: 'kyozo.stopAll',
  startService: 'kyozo.startService',
  stopService: 'kyozo.stopService',
  restartService: 'kyozo.restartService',
  scaleService: 'kyozo.scaleService',
  showLogs: 'kyozo.showLogs',
  openServiceUrl: 'kyozo.openServiceUrl',
  revealService: 'kyozo.revealService',
  generateCompose: 'kyozo.generateCompose',
  showEvents: 'kyozo.showEvents',
  deployFolder: 'kyozo.deployFolder',
  showServiceDetails: 'kyozo.showServiceDetails',
  openTopology: 'kyozo.openTopology',
  describeFolder: 'kyozo.describeFolder',
  pushService: 'kyozo.pushService',
  pushAll: 'kyozo.pushAll',
  selectEnvironment: 'kyozo.selectEnvironment',
  setEnvironmentSecret: 'kyozo.setEnvironmentSecret',
  setAutoscaling: 'kyozo.setAutoscaling',
  ...ShareCommands,
} as const;

export type ClientCommand = (typeof ClientCommands)[keyof typeof ClientCommands];

/** The extension command each topology webview action runs, with (folderUri, serviceId). */
export const WebviewActionCommands: Readonly<Record<WebviewAction, ClientCommand>> = {
  deploy: ClientCommands.deployService,
  stop: ClientCommands.stopService,
  restart: ClientCommands.restartService,
  logs: ClientCommands.showLogs,
  open: ClientCommands.openServiceUrl,
  reveal: ClientCommands.revealService,
};

// ───────────────────────────── Extension ↔ topology webview ─────────────────────────────

export type WebviewAction = 'deploy' | 'stop' | 'restart' | 'logs' | 'reveal' | 'open';

export interface WebviewViewState {
  viewport?: { x: number; y: number; zoom: number };
  selected?: string;
  filters?: { types?: ServiceType[]; states?: ServiceState[]; patterns?: PatternKind[]; search?: string };
}

export type HostToWebviewMessage =
  | { type: 'topology'; topology: Topology }
  | { type: 'status'; statuses: ServiceStatus[] }
  /** Appended to what the webview already has (deduplicated by id): the full list once, then each new event. */
  | { type: 'events'; events: DeploymentEvent[] }
  | { type: 'restore'; state: WebviewViewState }
  /** Selects a service and scrolls it into view (e.g. "Show in Topology" from the Services view). */
  | { type: 'select'; serviceId: string };

export type WebviewToHostMessage =
  | { type: 'ready' }
  | { type: 'action'; action: WebviewAction; serviceId: string; requestId?: string }
  | { type: 'state'; state: WebviewViewState }
  /** `data`: the SVG document text, or the PNG bytes in base64 (no `data:` prefix). */
  | { type: 'export'; format: 'svg' | 'png'; data: string };
