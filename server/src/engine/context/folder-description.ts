// What PathWalker says about one folder. Every field is a Fact: the value, how sure the engine is (0..1), and the
// files and lines that say so, so a person or an agent can always ask "why?".
import type { EdgeKind, Evidence } from '../../protocol';

export const FOLDER_PURPOSES = [
  'service',
  'library',
  'module',
  'tests',
  'docs',
  'infrastructure',
  'ci',
  'scripts',
  'config',
  'assets',
  'api-definitions',
  'generated',
  'data',
  'examples',
  'workspace-root',
] as const;

export type FolderPurpose = (typeof FOLDER_PURPOSES)[number];

export interface Fact<T> {
  value: T;
  /** 0..1. */
  confidence: number;
  evidence: Evidence[];
}

export type CapabilityKind =
  | 'http-route'
  | 'grpc-method'
  | 'grpc-server'
  | 'grpc-client'
  | 'queue-consume'
  | 'queue-produce'
  | 'scheduled-job'
  | 'cli-command'
  | 'library-export';

export interface Capability {
  kind: CapabilityKind;
  /** `GET /api/users`, `hipstershop.CartService/AddItem`, a queue name, a cron expression, a command name. */
  name: string;
  detail?: string;
  evidence: Evidence;
}

export interface Stack {
  languages: string[];
  frameworks: string[];
  /** `node >=20`, `go 1.22`, `python 3.12`, `image python:3.12-slim`. */
  runtimes: string[];
}

export interface EntryPoint {
  file?: string;
  command?: string;
  evidence: Evidence;
}

export interface FolderLink {
  /** The other folder (a service's folder, or the folder a library or test lives in). */
  folder: string;
  /** The service's name, when the other side is a service. */
  service?: string;
  kind: EdgeKind | 'tests' | 'library' | 'inside';
  evidence: Evidence[];
}

export interface DeploymentRef {
  kind: 'dockerfile' | 'compose' | 'kyozo-yaml' | 'kubernetes' | 'helm' | 'generated-dockerfile';
  file: string;
  evidence: Evidence;
}

export interface RelatedFolder {
  folder: string;
  /** Higher relates more strongly: calls, a shared proto, tests, then deployment config. */
  score: number;
  reasons: string[];
}

export interface FolderDescription {
  /** Root-relative posix path ('.' for the root). */
  folder: string;
  purpose: Fact<FolderPurpose>;
  summary: Fact<string>;
  stack: Fact<Stack>;
  capabilities: Fact<Capability[]>;
  entryPoints: Fact<EntryPoint[]>;
  /** Environment variable names only: values never leave the engine through a description. */
  envRead: Fact<string[]>;
  dependsOn: Fact<FolderLink[]>;
  usedBy: Fact<FolderLink[]>;
  testsFor: Fact<FolderLink[]>;
  testedBy: Fact<FolderLink[]>;
  deployment: Fact<DeploymentRef[]>;
  related: Fact<RelatedFolder[]>;
  suggestions: Fact<string[]>;
  /** The service this folder is or belongs to. */
  service?: string;
}
