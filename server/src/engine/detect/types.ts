// What a detector sees (one folder of the index) and what it reports (a Finding: partial facts about
// the folder as a service, each with evidence). The analyzer merges the findings of one folder.
import type {
  BuildSpec,
  EnvVar,
  Evidence,
  HealthCheck,
  PortSpec,
  Problem,
  Recommendation,
  Resources,
  Scaling,
  ServiceType,
  StartSpec,
} from '../../protocol';
import type { FolderView } from '../scan/folder-view';

export type DataEngine =
  'postgres' | 'mysql' | 'mongo' | 'redis' | 'memcached' | 'rabbitmq' | 'kafka' | 'nats' | 'elasticsearch';

export interface Dependency {
  name: string;
  file: string;
  line?: number;
  /** Data store this dependency talks to when the name alone does not say (sqlx with the postgres feature). */
  engine?: DataEngine;
}

export interface WorkspaceDecl {
  tool: string;
  /** Member globs or folders, relative to the declaring folder. */
  members: string[];
  evidence: Evidence;
}

export interface Finding {
  detector: string;
  type?: ServiceType;
  /** How strongly `type` is claimed; the highest rank wins when findings merge. */
  rank?: number;
  language?: string;
  frameworks?: string[];
  confidence: number;
  evidence: Evidence[];
  indicators: string[];
  ports?: PortSpec[];
  start?: StartSpec;
  build?: Partial<BuildSpec>;
  image?: string;
  env?: EnvVar[];
  healthCheck?: HealthCheck;
  /** A health endpoint the framework serves with no route in the code (Spring Boot Actuator); code routes win. */
  frameworkHealth?: HealthCheck;
  /** true: starts something; false: nothing to start (a library); undefined: no opinion. */
  runnable?: boolean;
  /** Starts something that listens on nothing (queue consumer, scheduler). */
  worker?: boolean;
  /** Starts something that listens on nothing and runs to completion (a migration, an import); evidence says why. */
  job?: boolean;
  /** Frontend served to browsers (SPA, SSR app) — used for patterns. */
  frontend?: boolean;
  packageName?: string;
  dependencies?: Dependency[];
  workspace?: WorkspaceDecl;
  /** Root-relative files worth reading with tree-sitter. */
  entryFiles?: string[];
  dataEngine?: DataEngine;
  /** Explicit overrides (kyozo.yaml) that win over everything. */
  override?: {
    name?: string;
    replicas?: number;
    resources?: Resources;
    scaling?: Scaling;
    dependsOn?: { name: string; evidence: Evidence }[];
  };
  /** nginx/caddy upstream hosts. */
  upstreams?: { host: string; port?: number; evidence: Evidence }[];
  problems?: Problem[];
  recommendations?: Recommendation[];
}

// Detectors take it from here, beside the Finding they return.
export { FolderView } from '../scan/folder-view';

export type Detector = (folder: FolderView) => Finding | Finding[] | undefined;
