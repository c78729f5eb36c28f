// Words and glyphs for types, states and edge kinds, shared by the graph, the details pane and the filters.
import type { EdgeKind, ServiceState, ServiceType } from '../../server/src/protocol';

export const TYPE_LABEL: Record<ServiceType, string> = {
  containerized: 'Container',
  compose_stack: 'Compose stack',
  nodejs: 'Node.js',
  python: 'Python',
  golang: 'Go',
  rust: 'Rust',
  java: 'Java',
  php: 'PHP',
  ruby: 'Ruby',
  dotnet: '.NET',
  elixir: 'Elixir',
  gleam: 'Gleam',
  deno: 'Deno',
  cpp: 'C/C++',
  job: 'Job',
  static: 'Static site',
  proxy: 'Proxy',
  infrastructure: 'Infrastructure',
  worker: 'Worker',
  database: 'Database',
  cache: 'Cache',
  queue: 'Queue',
};

/** Two or three letters drawn in the node's badge: readable in every theme without an icon font. */
export const TYPE_GLYPH: Record<ServiceType, string> = {
  containerized: 'CT',
  compose_stack: 'CS',
  nodejs: 'JS',
  python: 'PY',
  golang: 'GO',
  rust: 'RS',
  java: 'JV',
  php: 'PHP',
  ruby: 'RB',
  dotnet: '.N',
  elixir: 'EX',
  gleam: 'GL',
  deno: 'DN',
  cpp: 'C+',
  job: 'JB',
  static: 'WW',
  proxy: 'PX',
  infrastructure: 'TF',
  worker: 'WK',
  database: 'DB',
  cache: 'CA',
  queue: 'MQ',
};

export const STATE_LABEL: Record<ServiceState, string> = {
  'not-deployed': 'Not deployed',
  building: 'Building',
  starting: 'Starting',
  running: 'Running',
  unhealthy: 'Unhealthy',
  stopped: 'Stopped',
  error: 'Error',
};
export const STATES = Object.keys(STATE_LABEL) as ServiceState[];

export const EDGE_LABEL: Record<EdgeKind, string> = {
  compose: 'compose depends_on',
  'env-url': 'environment URL',
  driver: 'client driver',
  'code-ref': 'URL in code',
  grpc: 'gRPC client',
  broker: 'queue or topic',
  'workspace-package': 'workspace package',
  'proxy-upstream': 'proxy upstream',
};
