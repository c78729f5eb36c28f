// The analyzer: scan → detect → assemble → link, with per-folder caches so that `update(paths)` re-detects only
// the folders a change touches and re-links the (small) service graph.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  TOPOLOGY_VERSION,
  type Edge,
  type EnvVar,
  type Group,
  type Pattern,
  type Problem,
  type Service,
  type Topology,
  type TopologyChange,
} from '../protocol';
import { emptyFacts, type CodeFacts, type CodeLanguage } from './code/code-facts';
import { codeReadersReady, ensureLanguage, languageForFile, readCode } from './code';
import { readCompose, parseDotEnv, type ComposeModel } from './compose/compose-import';
import { detectFolder, isIndicatorName } from './detect';
import { dockerfileFinding } from './detect/dockerfile';
import { isSecretName, looksLikeSecretLiteral } from './parse/secret-names';
import { dnsName } from './detect/service-names';
import { FolderView, type Finding } from './detect/types';
import { FileIndex, parentRel } from './scan/file-index';
import { assemble, type ServiceCache, type ServiceFacts } from './topology/assemble';
import { createLinkCache, link, type LinkCache } from './topology/link';
import { deploymentOrder } from './topology/order';
import { findPatterns } from './topology/patterns';
import { sameItems, sameOptionalItems } from './topology/cache-equality';

export interface AnalyzerOptions {
  /** Folder to analyse (absolute or relative to cwd). */
  root: string;
  /** Extra gitignore-style globs to skip, beside .gitignore files and the defaults. */
  extraIgnores?: string[];
  /** Cap on bytes read from any one file (default 512 KiB). */
  maxFileBytes?: number;
  /** Read entry-point code with tree-sitter (default true). */
  readCode?: boolean;
}

export interface UpdateResult {
  topology: Topology;
  change: TopologyChange;
}

export interface Analyzer {
  readonly root: string;
  /** Full scan and analysis. */
  analyze(): Promise<Topology>;
  /** Re-analyse only the folders the given paths (absolute or root-relative) affect. */
  update(changedPaths: string[]): Promise<UpdateResult>;
  /** Last topology computed, if any. */
  current(): Topology | undefined;
  /** The folder listings and cached reads the analysis works from, so folder descriptions need no second scan. */
  fileIndex(): FileIndex;
}

// A Map, not an object literal: every file name of the tree is looked up here, and a Map keeps that lookup fast
// for keys it does not hold.
const MANIFEST_LANGUAGE = new Map<string, CodeLanguage>([
  ['package.json', 'javascript'],
  ['tsconfig.json', 'typescript'],
  ['requirements.txt', 'python'],
  ['pyproject.toml', 'python'],
  ['Pipfile', 'python'],
  ['manage.py', 'python'],
  ['go.mod', 'go'],
  ['Cargo.toml', 'rust'],
  ['pom.xml', 'java'],
  ['build.gradle', 'java'],
  ['Gemfile', 'ruby'],
  ['composer.json', 'php'],
]);

/** Thrown for a root that cannot be analysed; the CLI turns it into exit code 2. */
export class AnalyzeInputError extends Error {}

export function createAnalyzer(options: AnalyzerOptions): Analyzer {
  return new FolderAnalyzer(options);
}

export async function analyze(root: string, options: Omit<AnalyzerOptions, 'root'> = {}): Promise<Topology> {
  return createAnalyzer({ ...options, root }).analyze();
}

class FolderAnalyzer implements Analyzer {
  readonly root: string;
  private readonly index: FileIndex;
  private readonly findings = new Map<string, Finding[]>();
  private readonly compose = new Map<string, ComposeModel>();
  private readonly code = new Map<string, CodeFacts>();
  /** Set when a detection or code read produced something new since the last link. */
  private dirty = false;
  /** Per folder with findings: the files and listings its detection looked at. */
  private readonly reads = new Map<string, Set<string>>();
  /** The same, inverted: for a file or `dir:` listing, the folders whose detection read it. */
  private readonly readers = new Map<string, Set<string>>();
  private readonly useCode: boolean;
  private readonly serviceCache: ServiceCache = new Map();
  private linkCache: LinkCache = createLinkCache();
  private topology: Topology | undefined;
  /** Per service: the cached build it came from and its JSON, to tell what an update changed. */
  private snapshot = new Map<string, Snapshot>();

  constructor(options: AnalyzerOptions) {
    this.root = path.resolve(options.root);
    this.index = new FileIndex(this.root, { extraIgnores: options.extraIgnores, maxFileBytes: options.maxFileBytes });
    this.useCode = options.readCode !== false;
  }

  current(): Topology | undefined {
    return this.topology;
  }

  fileIndex(): FileIndex {
    return this.index;
  }

  async analyze(): Promise<Topology> {
    const started = performance.now();
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.root);
    } catch {
      throw new AnalyzeInputError(`${this.root} does not exist; pass a folder to analyse.`);
    }
    if (!stat.isDirectory())
      throw new AnalyzeInputError(`${this.root} is not a directory; pass the folder that holds the services.`);
    this.findings.clear();
    this.compose.clear();
    this.code.clear();
    this.reads.clear();
    this.readers.clear();
    this.serviceCache.clear();
    this.linkCache = createLinkCache();
    this.shape = undefined;
    // Grammars take longer to compile than most trees take to walk: start each as soon as a manifest hints at
    // its language, and let the compile run while the walk goes on.
    const hinted = new Set<CodeLanguage>();
    await this.index.buildInterleaved((listing) => {
      if (!this.useCode) return;
      for (const name of listing.files) {
        const lang = MANIFEST_LANGUAGE.get(name) ?? (name.endsWith('.csproj') ? 'csharp' : undefined);
        if (lang && !hinted.has(lang)) {
          hinted.add(lang);
          ensureLanguage(lang).catch(() => undefined);
        }
      }
    });
    for (const listing of this.index.allFolders()) this.detect(listing.dir);
    await this.loadLanguages(); // only the grammars this repository's entry files need
    this.topology = this.link(started);
    return this.topology;
  }

  async update(changedPaths: string[]): Promise<UpdateResult> {
    if (!this.topology) {
      const topology = await this.analyze();
      return {
        topology,
        change: { added: topology.services.map((s) => s.id), removed: [], changed: [], reanalysed: ['.'] },
      };
    }
    const started = performance.now();
    const touched = new Set<string>();
    const changedKeys = new Set<string>();
    let relevant = false;
    for (const p of changedPaths) {
      const rel = this.index.relative(p);
      if (rel === undefined) continue; // outside the workspace: never read
      // An edit to a file that is still there, that no detector or code reader ever read, changes nothing: most
      // keystrokes in a source file end here.
      const base = rel.slice(rel.lastIndexOf('/') + 1);
      const parent = this.index.folder(parentRel(rel));
      if (
        rel !== '.' &&
        parent?.files.includes(base) &&
        !this.index.wasRead(rel) &&
        base !== '.gitignore' &&
        safeIsFile(this.index.abs(rel))
      )
        continue;
      relevant = true;
      // Only a code file may turn out to change nothing (its facts compared below); anything else that was read
      // (a manifest, a Dockerfile, a .env the linker reads) re-links.
      if (!this.code.has(rel)) this.dirty = true;
      this.index.invalidate(rel);
      this.rereadCode(rel);
      changedKeys.add(rel);
      const isDir = this.index.folder(rel) !== undefined || safeIsDir(this.index.abs(rel));
      const dir = isDir ? (this.index.folder(parentRel(rel)) ? parentRel(rel) : rel) : parentRel(rel);
      const before = this.index.folder(dir);
      const names = before ? `${before.files.join('/')}|${before.subdirs.join('/')}` : undefined;
      const { added, removed } = this.index.refresh(rel === '.' ? '.' : dir, base === '.gitignore');
      const after = this.index.folder(dir);
      if (!after || names !== `${after.files.join('/')}|${after.subdirs.join('/')}`) changedKeys.add(`dir:${dir}`);
      for (const r of removed) {
        changedKeys.add(`dir:${r}`);
        this.findings.delete(r);
        this.compose.delete(r);
        this.setReads(r, undefined);
      }
      for (const a of added) {
        changedKeys.add(`dir:${a}`);
        touched.add(a);
      }
      if (changedKeys.has(`dir:${dir}`)) touched.add(dir);
    }
    const unchanged: UpdateResult = {
      topology: this.topology,
      change: { added: [], removed: [], changed: [], reanalysed: [] },
    };
    if (!relevant) return unchanged;
    // Detectors read a little beyond their folder (src/main.rs, cmd/*/main.go, application.properties, env_file):
    // re-detect exactly the folders whose detection looked at something that changed.
    for (const key of changedKeys) for (const d of this.readers.get(key) ?? []) touched.add(d);
    for (const d of touched) {
      if (this.index.folder(d)) this.detect(d);
      else if (this.findings.delete(d) || this.compose.delete(d)) this.dirty = true;
    }
    if (changedKeys.size && [...changedKeys].some((k) => k.startsWith('dir:'))) this.dirty = true;
    // An edit that left every detection and code fact as it was (a comment, a body) changes nothing.
    if (!this.dirty) return { ...unchanged, change: { ...unchanged.change, reanalysed: [...touched].sort() } };
    await this.loadLanguages(touched);
    const previous = this.snapshot;
    this.topology = this.link(started);
    const change: TopologyChange = { added: [], removed: [], changed: [], reanalysed: [...touched].sort() };
    for (const [id, now] of this.snapshot) {
      const before = previous.get(id);
      if (before === undefined) change.added.push(id);
      else if (
        before !== now &&
        (before.json !== now.json || !sameAnnotations(before, now.name, now.group, now.out, now.libraries))
      )
        change.changed.push(id);
    }
    for (const id of previous.keys()) if (!this.snapshot.has(id)) change.removed.push(id);
    return { topology: this.topology, change };
  }

  private detect(dir: string): void {
    const { result, reads } = this.index.track(() => {
      const listing = this.index.folder(dir);
      if (!listing) return undefined;
      // Most folders hold no indicator file at all: one scan of their names settles them.
      if (!listing.files.some(isIndicatorName)) return { found: [], model: undefined };
      const view = new FolderView(this.index, listing);
      return { found: detectFolder(view), model: readCompose(view) };
    });
    // Unchanged results keep their identity, so everything built from them is reused and nothing re-links.
    const oldFound = this.findings.get(dir);
    const oldModel = this.compose.get(dir);
    const sameFound =
      oldFound !== undefined && result?.found.length && JSON.stringify(oldFound) === JSON.stringify(result.found);
    const sameModel =
      oldModel !== undefined && result?.model && JSON.stringify(oldModel) === JSON.stringify(result.model);
    if (result?.found.length) {
      if (!sameFound) this.findings.set(dir, result.found);
    } else this.findings.delete(dir);
    if (result?.model) {
      if (!sameModel) this.compose.set(dir, result.model);
    } else this.compose.delete(dir);
    if (!sameFound || !sameModel) this.dirty = true;
    this.setReads(dir, result?.found.length || result?.model ? reads : undefined);
  }

  /** Records what a folder's detection read, in both directions. */
  private setReads(dir: string, reads: Set<string> | undefined): void {
    for (const key of this.reads.get(dir) ?? []) {
      const dirs = this.readers.get(key);
      dirs?.delete(dir);
      if (dirs?.size === 0) this.readers.delete(key);
    }
    if (!reads) {
      this.reads.delete(dir);
      return;
    }
    this.reads.set(dir, reads);
    for (const key of reads) {
      const dirs = this.readers.get(key);
      if (dirs) dirs.add(dir);
      else this.readers.set(key, new Set([dir]));
    }
  }

  /**
   * Grammars load asynchronously, once, for the languages the entry files need: those of every folder, or after an
   * update those of the folders it re-detected (only they can name a new entry file).
   */
  private async loadLanguages(dirs?: Iterable<string>): Promise<void> {
    if (!this.useCode) return;
    const langs = new Set<string>();
    const findings = dirs ? [...dirs].map((d) => this.findings.get(d) ?? []) : this.findings.values();
    for (const fs of findings)
      for (const f of fs)
        for (const file of f.entryFiles ?? []) {
          const lang = languageForFile(file);
          if (lang && !codeReadersReady(lang)) langs.add(lang);
        }
    await Promise.all([...langs].map((l) => ensureLanguage(l as CodeLanguage).catch(() => undefined)));
  }

  private codeFacts = (files: string[]): CodeFacts[] =>
    files.map((file) => {
      const cached = this.code.get(file);
      if (cached) return cached;
      const lang = languageForFile(file);
      let facts = emptyFacts();
      if (this.useCode && lang && codeReadersReady(lang)) {
        const text = this.index.read(file).text;
        if (text !== undefined) facts = withHostLiterals(readCode(lang, text), text);
      }
      this.code.set(file, facts);
      return facts;
    });

  /** Dockerfile facts by path, per listing of its folder (so an edit in that folder reads it again). */
  private readonly dockerfileMemo = new WeakMap<object, Map<string, Finding | undefined>>();

  private namedDockerfile = (rel: string): Finding | undefined => {
    const listing = this.index.folder(parentRel(rel));
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (!listing || !listing.files.includes(name)) return undefined;
    let memo = this.dockerfileMemo.get(listing);
    if (!memo) this.dockerfileMemo.set(listing, (memo = new Map()));
    if (!memo.has(rel)) memo.set(rel, dockerfileFinding(new FolderView(this.index, listing), name));
    return memo.get(rel);
  };

  /** .env values per folder listing: a new listing (the folder changed) reads them again. */
  private readonly dotEnvMemo = new WeakMap<object, EnvVar[]>();

  private dotEnv = (dir: string): EnvVar[] => {
    const listing = this.index.folder(dir);
    if (!listing) return [];
    let memo = this.dotEnvMemo.get(listing);
    if (!memo) {
      memo = this.readDotEnv(dir, listing.files);
      this.dotEnvMemo.set(listing, memo);
    }
    return memo;
  };

  private readDotEnv(dir: string, files: string[]): EnvVar[] {
    const out: EnvVar[] = [];
    for (const name of ['.env', '.env.example', '.env.sample']) {
      if (!files.includes(name)) continue;
      const rel = dir === '.' ? name : `${dir}/${name}`;
      const text = this.index.read(rel).text ?? '';
      const lines = text.split(/\r?\n/);
      for (const [k, v] of Object.entries(parseDotEnv(text))) {
        if (out.some((e) => e.name === k)) continue;
        const line = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${k}\\s*=`).test(l)) + 1;
        out.push({
          name: k,
          value: name === '.env' ? v : undefined,
          secret: isSecretName(k) || looksLikeSecretLiteral(k, v),
          evidence: { file: rel, line: line || undefined, reason: `${name} defines ${k}` },
        });
      }
    }
    return out;
  }

  /** A changed file's code facts, read again now; equal facts keep the old object so nothing rebuilds. */
  private rereadCode(rel: string): void {
    const old = this.code.get(rel);
    this.code.delete(rel);
    if (!old) return;
    const fresh = this.codeFacts([rel])[0];
    if (JSON.stringify(fresh) === JSON.stringify(old)) this.code.set(rel, old);
    else this.dirty = true;
  }

  /** The last order and patterns, with what they were computed from. */
  private shape:
    | {
        services: Service[];
        edges: Edge[];
        groups: Group[];
        frontends: Set<string>;
        order: string[][];
        problems: Problem[];
        patterns: Pattern[];
      }
    | undefined;

  /**
   * Deployment order and patterns depend only on the edges and on each service's id, name, type, image and ports:
   * an update that changes none of these (an edited port number, a new env var) reuses the last ones.
   */
  private graphShape(
    services: Service[],
    edges: Edge[],
    groups: Group[],
    frontends: Set<string>,
  ): { order: string[][]; problems: Problem[]; patterns: Pattern[] } {
    const last = this.shape;
    if (
      last &&
      last.edges === edges &&
      sameItems(last.services, services, sameShape) &&
      sameItems(last.groups, groups, sameGroup) &&
      sameSet(last.frontends, frontends)
    ) {
      last.services = services;
      last.groups = groups;
      return last;
    }
    const { order, problems } = deploymentOrder(services, edges);
    const patterns = findPatterns(services, edges, groups, frontends);
    this.shape = { services, edges, groups, frontends, order, problems, patterns };
    return this.shape;
  }

  /** Each service's outgoing edges as one string, recomputed only when the edge array is a new one. */
  private outgoing: { edges: Edge[]; byService: Map<string, string> } | undefined;

  private outgoingOf(edges: Edge[]): Map<string, string> {
    if (this.outgoing?.edges === edges) return this.outgoing.byService;
    const byService = new Map<string, string>();
    for (const e of edges) {
      const before = byService.get(e.from);
      byService.set(e.from, before === undefined ? `${e.to}:${e.kind}` : `${before},${e.to}:${e.kind}`);
    }
    this.outgoing = { edges, byService };
    return byService;
  }

  private link(started: number): Topology {
    this.dirty = false;
    const rootName = dnsName(path.basename(this.root));
    const assembled = assemble({
      rootName,
      findings: this.findings,
      compose: [...this.compose.values()],
      codeFacts: this.codeFacts,
      dotEnv: this.dotEnv,
      cache: this.serviceCache,
      folderVersion: (dir) => this.index.folder(dir),
      dockerfile: this.namedDockerfile,
    });
    const linked = link(assembled, this.linkCache);
    // Serialise only what may have changed: a service rebuilt, renamed or re-annotated since the last run.
    const previous = this.snapshot;
    this.snapshot = new Map();
    const outgoing = this.outgoingOf(linked.edges);
    for (const s of assembled.services) {
      const before = previous.get(s.service.id);
      // A service whose dependencies changed has changed for its users too, even when its own record did not.
      const svc = s.service;
      const out = outgoing.get(svc.id);
      if (
        before !== undefined &&
        before.built === s.built &&
        sameAnnotations(before, svc.name, svc.group, out, svc.libraries)
      )
        this.snapshot.set(svc.id, before);
      else
        this.snapshot.set(svc.id, {
          built: s.built,
          name: svc.name,
          group: svc.group,
          libraries: svc.libraries && [...svc.libraries],
          out,
          json: JSON.stringify(svc),
        });
    }
    for (const id of this.serviceCache.keys()) if (!this.snapshot.has(id)) this.serviceCache.delete(id);
    const services: Service[] = assembled.services
      .map((s) => s.service)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const frontends = new Set(assembled.services.filter((s) => s.frontend).map((s) => s.service.id));
    const groups = assembled.groups.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const { order, problems: orderProblems, patterns } = this.graphShape(services, linked.edges, groups, frontends);
    const problems: Problem[] = [...this.index.problems, ...assembled.problems, ...linked.problems, ...orderProblems];
    // A compose folder's .env feeds interpolation, not one service: its literal secrets are flagged on their own.
    for (const model of this.compose.values()) {
      for (const e of this.dotEnv(model.dir)) {
        if (
          !looksLikeSecretLiteral(e.name, e.value) ||
          linked.recommendations.some(
            (r) => r.code === 'secret-literal' && r.file === e.evidence.file && r.line === e.evidence.line,
          )
        )
          continue;
        linked.recommendations.push({
          code: 'secret-literal',
          file: e.evidence.file,
          line: e.evidence.line,
          message: `${e.name} is written as a literal in ${e.evidence.file}; keep that file out of version control or use a secret store.`,
        });
      }
    }
    for (const p of problems) if (p.file === undefined) delete p.file;
    return {
      version: TOPOLOGY_VERSION,
      root: this.root,
      name: rootName,
      generatedAt: new Date().toISOString(),
      services,
      edges: linked.edges,
      libraries: assembled.libraries.map(({ packageName: _p, ...l }) => l).sort((a, b) => (a.id < b.id ? -1 : 1)),
      groups,
      patterns,
      order,
      problems,
      recommendations: linked.recommendations,
      stats: {
        files: this.index.fileCount,
        folders: this.index.folderCount,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
    };
  }
}

/**
 * Quoted `name:port` literals (`'kafka:9092'` in a client config, a `bootstrap.servers` value) name hosts the
 * grammar-specific readers do not know the API of; the linker keeps only those that are services.
 */
function withHostLiterals(facts: CodeFacts, text: string): CodeFacts {
  const re = /['"`]([a-z][a-z0-9-]*):(\d{2,5})['"`,/]/g;
  let m: RegExpExecArray | null;
  let line = 1;
  let last = 0;
  const hosts = [...(facts.hosts ?? [])];
  while ((m = re.exec(text))) {
    for (let i = last; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
    last = m.index;
    if (['localhost', 'http', 'https'].includes(m[1]) || hosts.some((h) => h.host === m![1])) continue;
    hosts.push({ host: m[1], line, port: Number(m[2]) });
  }
  return hosts.length === (facts.hosts ?? []).length ? facts : { ...facts, hosts };
}

/** What a service was last reported as: its record (by the build it came from, as JSON) and what links add to it. */
interface Snapshot {
  built?: ServiceFacts;
  name: string;
  group?: string;
  libraries?: string[];
  /** Its outgoing edges, `to:kind` joined. */
  out?: string;
  json: string;
}

function sameAnnotations(
  a: Snapshot,
  name: string,
  group: string | undefined,
  out: string | undefined,
  libraries: string[] | undefined,
): boolean {
  return a.name === name && a.group === group && a.out === out && sameOptionalItems(a.libraries, libraries);
}

/** Services that agree on everything order and patterns read. */
function sameShape(x: Service, y: Service): boolean {
  return (
    x.id === y.id && x.name === y.name && x.type === y.type && x.image === y.image && x.ports.length === y.ports.length
  );
}

function sameGroup(x: Group, y: Group): boolean {
  return x.id === y.id && x.kind === y.kind && x.tool === y.tool && sameItems(x.members, y.members);
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const v of a) if (!b.has(v)) return false;
  return true;
}

function safeIsFile(abs: string): boolean {
  try {
    return fs.statSync(abs).isFile();
  } catch {
    return false;
  }
}

function safeIsDir(abs: string): boolean {
  try {
    return fs.statSync(abs).isDirectory();
  } catch {
    return false;
  }
}
