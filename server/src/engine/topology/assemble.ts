// Assembly: merges the findings of each folder, the compose services and kyozo.yaml overrides into
// Service records. Decides what is a service, what is a library and what is only a workspace or compose group.
// Each record comes from service-record.ts; here are the phases around it, in order.
import type { EnvVar, Evidence, Group, Library, Problem, Service } from '../../protocol';
import type { CodeFacts } from '../code/code-facts';
import type { ComposeModel, ComposeService } from '../compose/compose-import';
import { ev } from '../parse/evidence';
import { dnsName } from '../detect/service-names';
import type { DataEngine, Dependency, Finding } from '../detect/types';
import { sameItems } from './cache-equality';
import { baseName, buildService, entryFilesOf, GENERIC_FOLDERS } from './service-record';

/** What linking needs beside the public Service. */
export interface ServiceFacts {
  service: Service;
  dependencies: Dependency[];
  upstreams: NonNullable<Finding['upstreams']>;
  dataEngine?: DataEngine;
  packageName?: string;
  code: { file: string; facts: CodeFacts }[];
  declaredDeps: {
    name: string;
    evidence: Evidence;
    condition?: ComposeService['dependsOn'][number]['condition'];
    compose?: ComposeModel;
    links?: boolean;
  }[];
  compose?: { model: ComposeModel; svc: ComposeService };
  frontend: boolean;
  /** Every name the service answers to on the network (name, compose name, aliases). */
  hostNames: string[];
  /** The cached record this copy was made from: unchanged identity means unchanged inputs. */
  built?: ServiceFacts;
  /** Ports the Dockerfile EXPOSEs, itself or through its base image (nginx: 80). */
  exposed: number[];
}

/** Built services by id, reused while nothing they were built from has changed. */
export type ServiceCache = Map<string, { inputs: BuildInputs; facts: ServiceFacts; final?: ServiceFacts }>;

/** Everything buildService reads, by identity. */
interface BuildInputs {
  fs: Finding[];
  model: ComposeModel | undefined;
  svc: ComposeService | undefined;
  version: unknown;
  code: CodeFacts[];
}

function sameInputs(a: BuildInputs, b: BuildInputs): boolean {
  return (
    a.fs === b.fs && a.model === b.model && a.svc === b.svc && a.version === b.version && sameItems(a.code, b.code)
  );
}

const NO_CODE: CodeFacts[] = [];

export interface AssembleInput {
  rootName: string;
  cache?: ServiceCache;
  /** The identity of a folder's listing changes whenever the folder changes (new files, an edited .env). */
  folderVersion?: (dir: string) => unknown;
  /** What a Dockerfile compose names says, when it is not its folder's own (`dockerfile: docker/Dockerfile.prod`). */
  dockerfile?: (path: string) => Finding | undefined;
  findings: Map<string, Finding[]>;
  compose: ComposeModel[];
  codeFacts: (files: string[]) => CodeFacts[];
  dotEnv: (dir: string) => EnvVar[];
}

export interface Assembled {
  services: ServiceFacts[];
  libraries: (Library & { packageName?: string })[];
  groups: Group[];
  problems: Problem[];
}

function isAncestor(a: string, b: string): boolean {
  if (a === '.') return b !== '.';
  return b.length > a.length && b.charCodeAt(a.length) === 47 /* '/' */ && b.startsWith(a);
}

type ComposeBuild = { model: ComposeModel; svc: ComposeService };
type FolderKind = 'service' | 'library' | 'group-only' | 'weak';

export function assemble(input: AssembleInput): Assembled {
  const problems: Problem[] = [];
  const composeBuilt = composeBuiltFolders(input, problems);
  const { dirs, kinds, groups } = classifyFolders(input, composeBuilt, borrowedDockerfiles(composeBuilt), problems);
  const { services, libraries } = buildRecords(input, dirs, kinds, composeBuilt);
  const nameOf = uniqueNames(services);
  const groupOf = groupMembers(input, services, libraries, groups);
  // The records handed on are copies carrying the final name and group; a copy is reused while its record,
  // name and group stay the same (most of them, on an update).
  const finals = services.map((s) => finalCopy(s, nameOf.get(s)!, groupOf.get(s), input.cache));
  return { services: finals, libraries, groups, problems };
}

/**
 * Folders that compose builds are services whatever their own files say. When several compose services build the
 * same folder (web + worker from one image), the one that publishes a port owns the folder's id and the others
 * become services of their own, `<compose file>#<name>`.
 */
function composeBuiltFolders(input: AssembleInput, problems: Problem[]): Map<string, ComposeBuild> {
  const composeBuilt = new Map<string, ComposeBuild>();
  for (const model of input.compose) {
    for (const svc of model.services) {
      const folder = builtFolder(svc, input.findings);
      if (folder === undefined) continue;
      const owner = composeBuilt.get(folder);
      const publishes = (s: ComposeService) => s.ports.some((p) => p.host !== undefined);
      if (!owner || (!publishes(owner.svc) && publishes(svc))) composeBuilt.set(folder, { model, svc });
    }
    problems.push(...model.problems);
  }
  return composeBuilt;
}

/**
 * Dockerfiles that compose builds another folder with (`context: ../web`, `dockerfile: docker/Dockerfile.prod`)
 * make their own folder nothing of its own.
 */
function borrowedDockerfiles(composeBuilt: Map<string, ComposeBuild>): Set<string> {
  const borrowed = new Set<string>();
  for (const [folder, { svc }] of composeBuilt) {
    const df = svc.build?.dockerfile;
    if (df) {
      const dfDir = df.includes('/') ? df.slice(0, df.lastIndexOf('/')) : '.';
      if (dfDir !== folder) borrowed.add(df);
    }
  }
  return borrowed;
}

/** What each folder is: a service, a library, only a workspace group, or weak (a service unless inside one). */
function classifyFolders(
  input: AssembleInput,
  composeBuilt: Map<string, ComposeBuild>,
  borrowed: Set<string>,
  problems: Problem[],
): { dirs: string[]; kinds: Map<string, FolderKind>; groups: Group[] } {
  const groups: Group[] = [];
  const kinds = new Map<string, FolderKind>();
  const dirs = [...new Set([...input.findings.keys(), ...composeBuilt.keys()])].sort(
    (a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const dir of dirs) {
    const all = input.findings.get(dir) ?? [];
    for (const f of all) if (f.problems?.length) problems.push(...f.problems);
    const fs = borrowed.size
      ? all.filter((f) => !(f.detector === 'dockerfile' && f.build?.dockerfile && borrowed.has(f.build.dockerfile)))
      : all;
    if (fs.length === 0 && !composeBuilt.has(dir)) continue;
    const kind = folderKind(fs, composeBuilt.has(dir));
    if (!kind) continue;
    kinds.set(dir, kind);
    const workspace = fs.find((f) => f.workspace)?.workspace;
    if (workspace)
      groups.push({ id: dir, kind: 'workspace', tool: workspace.tool, members: [], evidence: [workspace.evidence] });
  }
  // A folder inside a service belongs to it unless it is a service in its own right.
  const serviceDirs = new Set<string>();
  const insideService = (dir: string): boolean => {
    for (let d = dir; d !== '.';) {
      d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '.';
      if (serviceDirs.has(d)) return true;
    }
    return false;
  };
  for (const dir of dirs) {
    const kind = kinds.get(dir);
    if (!kind) continue;
    if (kind === 'weak') {
      if (insideService(dir)) continue;
      kinds.set(dir, 'service');
    }
    if (kinds.get(dir) === 'service') serviceDirs.add(dir);
  }
  return { dirs, kinds, groups };
}

function folderKind(fs: Finding[], composeBuilt: boolean): FolderKind | undefined {
  const strong =
    composeBuilt ||
    fs.some((f) => f.detector === 'kyozo.yaml' || f.detector === 'dockerfile' || f.detector === 'procfile');
  const runnable = fs.some((f) => f.runnable === true);
  const notRunnable = fs.some((f) => f.runnable === false);
  const typed = fs.some((f) => f.type !== undefined);
  if (
    strong ||
    (runnable && !fs.every((f) => f.detector === 'static' || f.runnable !== true || f.detector === 'workspace'))
  )
    return 'service';
  if (runnable) return 'weak'; // a static index.html: a service only when no service contains it
  if (fs.some((f) => f.type === 'infrastructure')) return 'service';
  if (fs.find((f) => f.workspace)) return 'group-only';
  if (notRunnable && fs.some((f) => f.packageName || f.type)) return 'library';
  if (typed) return 'weak'; // a broken manifest among them: keep the folder visible
  return undefined;
}

/** A record per service folder and per compose service that owns no folder; libraries as they are. */
function buildRecords(
  input: AssembleInput,
  dirs: string[],
  kinds: Map<string, FolderKind>,
  composeBuilt: Map<string, ComposeBuild>,
): { services: ServiceFacts[]; libraries: Assembled['libraries'] } {
  const services: ServiceFacts[] = [];
  const libraries: Assembled['libraries'] = [];
  for (const dir of dirs) {
    const kind = kinds.get(dir);
    const fs = input.findings.get(dir) ?? [];
    if (kind === 'library') {
      const f = fs.find((x) => x.packageName) ?? fs[0];
      libraries.push({
        id: dir,
        name: f.packageName ?? baseName(dir, input.rootName),
        folder: dir,
        language: fs.find((x) => x.language)?.language,
        evidence: fs.flatMap((x) => x.evidence).slice(0, 4),
        packageName: f.packageName,
      });
      continue;
    }
    if (kind !== 'service') continue;
    services.push(cachedBuild(dir, fs, composeBuilt.get(dir), input));
  }
  for (const model of input.compose) {
    for (const svc of model.services) {
      const built = builtFolder(svc, input.findings);
      if (built !== undefined && composeBuilt.get(built)?.svc === svc) continue;
      const id = `${model.files[0]}#${svc.name}`;
      const folder = built ?? model.dir;
      services.push(
        cachedBuild(id, svc.build ? (input.findings.get(folder) ?? []) : [], { model, svc }, input, folder),
      );
    }
  }
  return { services, libraries };
}

/** Unique DNS names, decided on the cached records without touching them. */
function uniqueNames(services: ServiceFacts[]): Map<ServiceFacts, string> {
  const nameOf = new Map<ServiceFacts, string>();
  const taken = new Set<string>();
  for (const s of services) {
    let name = s.service.name;
    // A generic folder named after its parent, beside the parent's own service: `shop`, `shop/server` → shop-server.
    const last = s.service.folder.slice(s.service.folder.lastIndexOf('/') + 1);
    const qualified = dnsName(`${name}-${last}`);
    if (taken.has(name) && GENERIC_FOLDERS.has(last) && !taken.has(qualified)) name = qualified;
    for (let i = 2; taken.has(name); i++) name = `${s.service.name}-${i}`;
    nameOf.set(s, name);
    taken.add(name);
  }
  return nameOf;
}

/** Compose groups join the workspace groups; every group gets its members, and each service its group. */
function groupMembers(
  input: AssembleInput,
  services: ServiceFacts[],
  libraries: Assembled['libraries'],
  groups: Group[],
): Map<ServiceFacts, string> {
  const groupOf = new Map<ServiceFacts, string>();
  for (const model of input.compose) {
    const members = services.filter((s) => s.compose?.model === model).map((s) => s.service.id);
    const evidence = [ev(model.files[0], `compose file with ${members.length} services`)];
    if (members.length) groups.push({ id: model.dir, kind: 'compose', tool: 'compose', members, evidence });
  }
  for (const g of groups) {
    if (g.kind !== 'workspace') continue;
    g.members = [...services.map((s) => s.service.folder), ...libraries.map((l) => l.folder)].filter(
      (d) => isAncestor(g.id, d) && d !== g.id,
    );
    for (const s of services) if (!groupOf.has(s) && isAncestor(g.id, s.service.folder)) groupOf.set(s, g.id);
  }
  for (const s of services) if (!groupOf.has(s) && s.compose) groupOf.set(s, s.compose.model.dir);
  return groupOf;
}

function finalCopy(
  facts: ServiceFacts,
  name: string,
  group: string | undefined,
  cache: ServiceCache | undefined,
): ServiceFacts {
  const entry = cache?.get(facts.service.id);
  const prev = entry?.final;
  // The linker keeps `libraries` up to date on the copy it is handed.
  if (prev && prev.built === facts && prev.service.name === name && prev.service.group === group) return prev;
  const hostNames = facts.hostNames.includes(name) ? facts.hostNames : [name, ...facts.hostNames];
  const copy: ServiceFacts = {
    ...facts,
    service: { ...facts.service, name, ...(group !== undefined ? { group } : {}) },
    hostNames,
    built: facts,
  };
  if (entry && entry.facts === facts) entry.final = copy;
  return copy;
}

/**
 * The folder a compose service builds: its context, or — when the context is a monorepo root and the Dockerfile
 * lives in a member's folder (`context: .`, `dockerfile: apps/web/Dockerfile`) — that member.
 */
function builtFolder(svc: ComposeService, findings: Map<string, Finding[]>): string | undefined {
  if (!svc.build) return undefined;
  const df = svc.build.dockerfile;
  const dfDir = df && df.includes('/') ? df.slice(0, df.lastIndexOf('/')) : df ? '.' : undefined;
  const contextIsWorkspaceRoot = (findings.get(svc.build.context) ?? []).some((f) => f.workspace);
  return dfDir && dfDir !== svc.build.context && contextIsWorkspaceRoot && findings.has(dfDir)
    ? dfDir
    : svc.build.context;
}

const withDockerfileMemo = new WeakMap<Finding[], WeakMap<Finding, Finding[]>>();
/** The folder's findings with another Dockerfile's in place of its own, memoised so cached builds stay valid. */
function withDockerfile(own: Finding[], dockerfile: Finding): Finding[] {
  let byFinding = withDockerfileMemo.get(own);
  if (!byFinding) withDockerfileMemo.set(own, (byFinding = new WeakMap()));
  let out = byFinding.get(dockerfile);
  if (!out) byFinding.set(dockerfile, (out = [...own.filter((f) => f.detector !== 'dockerfile'), dockerfile]));
  return out;
}

function depth(dir: string): number {
  if (dir === '.') return 0;
  let n = 1;
  for (let i = 0; i < dir.length; i++) if (dir.charCodeAt(i) === 47) n++;
  return n;
}

/** buildService memoised on its inputs; returns a copy the later stages may rename and annotate. */
function cachedBuild(
  id: string,
  own: Finding[],
  compose: { model: ComposeModel; svc: ComposeService } | undefined,
  input: AssembleInput,
  folderOverride?: string,
): ServiceFacts {
  const folder = folderOverride ?? id;
  // Compose may build the folder with a Dockerfile that is not the folder's own: that one's facts apply.
  const named = compose?.svc.build?.dockerfile;
  const borrowed =
    named && !own.some((f) => f.detector === 'dockerfile' && f.build?.dockerfile === named)
      ? input.dockerfile?.(named)
      : undefined;
  const fs = borrowed ? withDockerfile(own, borrowed) : own;
  const entryFiles = entryFilesOf(fs);
  const inputs: BuildInputs = {
    fs,
    model: compose?.model,
    svc: compose?.svc,
    version: input.folderVersion?.(folder),
    code: entryFiles.length ? input.codeFacts(entryFiles) : NO_CODE,
  };
  const hit = input.cache?.get(id);
  let facts: ServiceFacts;
  if (hit && sameInputs(hit.inputs, inputs)) facts = hit.facts;
  else {
    facts = buildService(id, fs, compose, input, folderOverride);
    input.cache?.set(id, { inputs, facts });
  }
  return facts;
}
