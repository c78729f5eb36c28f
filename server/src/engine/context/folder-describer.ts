// PathWalker: describeFolder for any folder of an analysed workspace, on the analyzer's own file index (its folder
// listings and cached reads), so describing costs no second walk. Each description records what it read (files,
// listings, its parent's purpose, the services it names); update() re-describes only the folders whose inputs changed.
import * as path from 'node:path';
import type { Edge, Evidence, Group, Library, Service, Topology } from '../../protocol';
import type { Analyzer } from '../analyzer';
import { createAnalyzer } from '../analyzer';
import {
  codeReadersReady,
  ensureLanguage,
  languageForFile,
  readCode,
  type CodeFacts,
  type CodeLanguage,
} from '../code';
import { joinRel, parentRel, type FileIndex } from '../scan/file-index';
import {
  codeCapabilities,
  cronJobCapabilities,
  exportedNames,
  manifestCapabilities,
  protoCapabilities,
  type ProtoIndex,
  type ReadSource,
} from './folder-capabilities';
import type {
  Capability,
  DeploymentRef,
  EntryPoint,
  Fact,
  FolderDescription,
  FolderLink,
  FolderPurpose,
  RelatedFolder,
  Stack,
} from './folder-description';
import { classifyPurpose, purposeByName } from './folder-purpose';
import { readProtoServices } from './proto-services';

/** Thrown for a folder that is not in the workspace (or is ignored); the CLI exits 2 and MCP answers InvalidParams. */
export class FolderNotFoundError extends Error {}

/** Source files read per service or library folder; routes live in a few files, and a huge folder must stay cheap. */
const FILES_PER_FOLDER = 25;
/**
 * Files a folder inside a service reads beside those its service already read: the service pass covers its best
 * named files, and describing every folder of a large tree must not read every source file in it.
 */
const FILES_PER_MODULE = 2;
/** Source files read below a service or library (routers, handlers, servers), shallowest and best-named first. */
const FILES_PER_SUBTREE = 24;
/** Of those, files whose names say nothing of routes or servers (store.go, rule_12.py). */
const UNNAMED_PER_SUBTREE = 6;
/** Only files holding one of these shapes are parsed: the rest cannot add a route, server, queue or env read. */
const WORTH_PARSING = new RegExp(
  [
    // A route is registered with a path literal: `app.get('/x'`, `r.GET("/x"`, `MapGet("/x"`, `path("x/"`.
    String.raw`\b(get|post|put|patch|delete|options|route|all|use|handle|HandleFunc|Map\w+|path|re_path|group)` +
      String.raw`\s*\(\s*r?['"\x60]`,
    String.raw`(->|::)(get|post|put|patch|delete|any|map)\(`,
    String.raw`^\s*(get|post|put|patch|delete)\s+['"]`,
    String.raw`@(app|router|bp|api|blueprint)\.|@(Get|Post|Put|Patch|Delete|All|Controller)\(|Mapping|@Path|Route`,
    String.raw`grpc|Servicer|Register\w*Server|getenv|Getenv|environ|process\.env|ENV\[|env::var`,
    String.raw`topic|queue|subscribe|publish|consume|Consumer|Producer|listen|Listen|perform|Worker`,
  ].join('|'),
  'im',
);
/** Folders below a service whose code may be its own (routes in config/routes.rb, PHP's public/index.php). */
const BELOW_SERVICE_CODE = new Set<FolderPurpose>(['config', 'scripts', 'assets']);
const ROUTE_FILE_NAMES =
  /(route|controller|handler|server|main|app|api|views|urls|endpoint|grpc|service|index|consumer|worker|cron|cli)/i;
const LANGUAGE_NAMES: Record<string, string> = {
  javascript: 'JavaScript',
  typescript: 'TypeScript',
  tsx: 'TypeScript',
  python: 'Python',
  go: 'Go',
  rust: 'Rust',
  java: 'Java',
  ruby: 'Ruby',
  php: 'PHP',
  csharp: 'C#',
  kotlin: 'Kotlin',
};
const OTHER_LANGUAGES: Record<string, string> = {
  '.ex': 'Elixir',
  '.exs': 'Elixir',
  '.gleam': 'Gleam',
  '.c': 'C',
  '.cc': 'C++',
  '.cpp': 'C++',
  '.hpp': 'C++',
  '.scala': 'Scala',
  '.swift': 'Swift',
  '.dart': 'Dart',
  '.proto': 'Protocol Buffers',
  '.tf': 'Terraform',
  '.sh': 'Shell',
  '.vue': 'Vue',
  '.svelte': 'Svelte',
  '.html': 'HTML',
  '.css': 'CSS',
  '.scss': 'SCSS',
  '.sql': 'SQL',
  '.md': 'Markdown',
};

interface Entry {
  description: FolderDescription;
  reads: Set<string>;
  /** Service ids the description names (its own, its owner's, its edges'). */
  services: Set<string>;
}

/** What the topology says, indexed for folder lookups; rebuilt when the topology object changes. */
interface TopologyView {
  topology: Topology;
  serviceAt: Map<string, Service>;
  libraryAt: Map<string, Library>;
  groupAt: Map<string, Group>;
  /** Folders with a service or library somewhere below them. */
  holders: Set<string>;
  byId: Map<string, Service>;
  out: Map<string, Edge[]>;
  in: Map<string, Edge[]>;
}

export interface RedescribeResult {
  topology: Topology;
  /** Folders described again, parents first. */
  redescribed: string[];
  removed: string[];
}

export class FolderDescriber {
  private entries = new Map<string, Entry>();
  /** For a read key (a file, `dir:<folder>`, `purpose:<folder>`, `index:protos`), the folders that read it. */
  private readers = new Map<string, Set<string>>();
  private facts = new Map<string, { text: string; facts: CodeFacts }>();
  private view: TopologyView | undefined;
  private protos: (ProtoIndex & { files: string[] }) | undefined;
  private manifests: { files: string[]; names: Map<string, string[]> } | undefined;

  constructor(readonly analyzer: Analyzer) {}

  /** Analyses `root` and returns a describer on it. */
  static async open(root: string, options: { extraIgnores?: string[] } = {}): Promise<FolderDescriber> {
    const analyzer = createAnalyzer({ root, extraIgnores: options.extraIgnores });
    await analyzer.analyze();
    return new FolderDescriber(analyzer);
  }

  get root(): string {
    return this.analyzer.root;
  }

  private get index(): FileIndex {
    return this.analyzer.fileIndex();
  }

  fileIndex(): FileIndex {
    return this.analyzer.fileIndex();
  }

  topology(): Topology {
    const t = this.analyzer.current();
    if (!t) throw new Error('the workspace has not been analysed yet; call analyze() on the analyzer first');
    return t;
  }

  /** Root-relative folder for an absolute, cwd-relative or root-relative path; throws when it is not a folder here. */
  resolveFolder(input: string, cwd = process.cwd()): string {
    if (typeof input !== 'string' || input.trim() === '')
      throw new FolderNotFoundError(
        'No folder given: pass a folder path relative to the workspace root, such as src/api.',
      );
    const slashed = input.trim().replace(/\\/g, '/');
    const trimmed = slashed.length > 1 ? slashed.replace(/\/+$/, '') : slashed;
    const candidates = path.isAbsolute(trimmed)
      ? [trimmed]
      : [path.resolve(cwd, trimmed), path.join(this.root, trimmed)];
    for (const abs of candidates) {
      const rel = this.index.relative(abs);
      if (rel !== undefined && this.index.folder(rel)) return rel;
    }
    const outside = candidates.every((abs) => this.index.relative(abs) === undefined);
    throw new FolderNotFoundError(
      outside
        ? `${input} is outside the workspace ${this.root}; pass a folder inside it.`
        : `${input} is not a folder Kyozo indexed in ${this.root} (missing, a file, or ignored by .gitignore ` +
            'or the default ignores); pass an existing folder.',
    );
  }

  /** Describes one folder (absolute, or relative to cwd or the root). */
  async describe(folder: string, cwd?: string): Promise<FolderDescription> {
    const dir = this.resolveFolder(folder, cwd);
    const cached = this.entries.get(dir);
    if (cached) return cached.description;
    await this.loadGrammars([dir]);
    return this.describeNow(dir);
  }

  /** Every indexed folder, parents first. */
  async describeAll(): Promise<FolderDescription[]> {
    const dirs = this.folders();
    await this.loadGrammars(
      dirs.filter((d) => !this.entries.has(d)),
      true,
    );
    return dirs.map((d) => this.entries.get(d)?.description ?? this.describeNow(d));
  }

  /** Number of folders described so far (cached). */
  get describedCount(): number {
    return this.entries.size;
  }

  /**
   * Applies file changes through the analyzer, then re-describes the described folders whose inputs changed: a file
   * or listing they read, their parent's purpose, or a service they name. Others keep their description.
   */
  async update(changedPaths: string[]): Promise<RedescribeResult> {
    const ix = this.index;
    const keys = new Set<string>();
    const listed = new Map<string, string>();
    for (const p of changedPaths) {
      const rel = ix.relative(p);
      if (rel === undefined) continue;
      keys.add(rel);
      for (const d of [parentRel(rel), rel]) {
        const l = ix.folder(d);
        listed.set(d, l ? `${l.files.join('/')}|${l.subdirs.join('/')}` : '');
      }
      if (/\.proto$/.test(rel)) keys.add('index:protos');
      if (/\.ya?ml$/.test(rel)) keys.add('index:manifests');
    }
    const before = this.topology();
    const { topology, change } = await this.analyzer.update(changedPaths);
    for (const [d, sig] of listed) {
      const l = ix.folder(d);
      if ((l ? `${l.files.join('/')}|${l.subdirs.join('/')}` : '') !== sig) {
        keys.add(`dir:${d}`);
        if (!l || !sig) keys.add(`dir:${parentRel(d)}`);
      }
    }
    if (keys.has('index:protos')) this.protos = undefined;
    if (keys.has('index:manifests')) this.manifests = undefined;
    // Facts of a changed file are read again; those of others stay.
    for (const k of keys) this.facts.delete(k);
    const stale = new Set<string>();
    for (const k of keys) for (const d of this.readers.get(k) ?? []) stale.add(d);
    const touchedServices = new Set([...change.added, ...change.removed, ...change.changed]);
    if (before !== topology) {
      const prevView = this.view;
      this.view = undefined;
      const next = this.topologyView();
      // A service whose edges changed changes the usedBy of the other end too.
      for (const id of [...touchedServices])
        for (const v of [prevView, next]) {
          for (const e of [...(v?.out.get(id) ?? []), ...(v?.in.get(id) ?? [])]) touchedServices.add(e.from).add(e.to);
        }
      const folders = new Set<string>();
      for (const id of touchedServices) {
        const s = next.byId.get(id) ?? prevView?.byId.get(id);
        if (s) folders.add(s.folder);
      }
      for (const [dir, entry] of this.entries) {
        if ([...entry.services].some((id) => touchedServices.has(id))) stale.add(dir);
        // Added or removed services change ownership below them and `holders` above them.
        else if (change.added.length || change.removed.length || !sameLibraries(before, topology)) {
          for (const f of folders)
            if (dir === f || f === '.' || dir.startsWith(`${f}/`) || f.startsWith(dir === '.' ? '' : `${dir}/`))
              stale.add(dir);
        }
      }
      if (!sameLibraries(before, topology)) for (const dir of this.entries.keys()) stale.add(dir);
    }
    // New folders below a described one are described too (a new folder below an undescribed one waits for a call).
    if (this.entries.size) {
      const walk = (d: string) => {
        const l = ix.folder(d);
        if (!l) return;
        if (!this.entries.has(d)) stale.add(d);
        for (const sub of l.subdirs) if (!this.entries.has(joinRel(d, sub))) walk(joinRel(d, sub));
      };
      for (const d of listed.keys())
        if (ix.folder(d) && (this.entries.has(d) || this.entries.has(parentRel(d)))) walk(d);
    }
    const removed: string[] = [];
    for (const dir of stale) {
      if (!ix.folder(dir)) {
        this.forget(dir);
        removed.push(dir);
        stale.delete(dir);
      }
    }
    const redescribed: string[] = [];
    await this.loadGrammars([...stale]);
    // Parents first; a parent whose purpose changed passes the change on to the children that inherited it.
    const queue = [...stale].sort(byDepth);
    const done = new Set<string>();
    while (queue.length) {
      const dir = queue.shift()!;
      if (done.has(dir)) continue;
      done.add(dir);
      const old = this.entries.get(dir)?.description.purpose.value;
      this.forget(dir);
      const now = this.describeNow(dir).purpose.value;
      redescribed.push(dir);
      if (old !== now) {
        for (const child of this.readers.get(`purpose:${dir}`) ?? []) if (!done.has(child)) queue.push(child);
        queue.sort(byDepth);
      }
    }
    return { topology, redescribed, removed };
  }

  // ── describing ──

  private folders(): string[] {
    return [...this.index.allFolders()].map((l) => l.dir).sort(byDepth);
  }

  private forget(dir: string): void {
    const entry = this.entries.get(dir);
    if (!entry) return;
    for (const k of entry.reads) {
      const set = this.readers.get(k);
      set?.delete(dir);
      if (set?.size === 0) this.readers.delete(k);
    }
    this.entries.delete(dir);
  }

  /** With `everyFolder`, `dirs` is the whole tree and each folder's own files are enough to know the languages. */
  private async loadGrammars(dirs: string[], everyFolder = false): Promise<void> {
    const langs = new Set<CodeLanguage>();
    for (const dir of dirs) {
      const files = everyFolder
        ? (this.index.folder(dir)?.files ?? []).map((f) => joinRel(dir, f))
        : this.sourceCandidates(dir, true);
      for (const file of files) {
        const lang = languageForFile(file);
        if (lang && !codeReadersReady(lang)) langs.add(lang);
      }
    }
    await Promise.all([...langs].map((l) => ensureLanguage(l).catch(() => undefined)));
  }

  /**
   * Built outside any folder's tracking, before describing: they are shared by every folder, and a folder that uses
   * them is keyed `index:protos` / `index:manifests` rather than on each file they read.
   */
  private sharedIndexes(): void {
    this.protoIndex();
    this.manifestIndex();
  }

  private describeNow(dir: string): FolderDescription {
    this.sharedIndexes();
    const parentDir = dir === '.' ? undefined : parentRel(dir);
    // The parent's purpose is an input: describe it first (its reads are its own).
    const parentPurpose =
      parentDir !== undefined
        ? (this.entries.get(parentDir)?.description ?? this.describeNow(parentDir)).purpose.value
        : undefined;
    const services = new Set<string>();
    const { result, reads } = this.index.track(() => this.compose(dir, parentPurpose, services));
    if (parentDir !== undefined) reads.add(`purpose:${parentDir}`);
    if (result.purpose.value === 'service' || result.purpose.value === 'infrastructure') reads.add('index:manifests');
    if (result.capabilities.value.some((c) => c.kind === 'grpc-method') || result.purpose.value === 'service')
      reads.add('index:protos');
    this.entries.set(dir, { description: result, reads, services });
    for (const k of reads) {
      const set = this.readers.get(k);
      if (set) set.add(dir);
      else this.readers.set(k, new Set([dir]));
    }
    return result;
  }

  private topologyView(): TopologyView {
    const topology = this.topology();
    if (this.view?.topology === topology) return this.view;
    const view: TopologyView = {
      topology,
      serviceAt: new Map(),
      libraryAt: new Map(),
      groupAt: new Map(),
      holders: new Set(),
      byId: new Map(),
      out: new Map(),
      in: new Map(),
    };
    const hold = (folder: string) => {
      for (let d = folder; d !== '.';) {
        d = parentRel(d);
        if (view.holders.has(d)) break;
        view.holders.add(d);
      }
    };
    for (const s of topology.services) {
      view.byId.set(s.id, s);
      if (s.composeOnly) continue;
      if (!view.serviceAt.has(s.folder)) view.serviceAt.set(s.folder, s);
      hold(s.folder);
    }
    for (const l of topology.libraries) {
      view.libraryAt.set(l.folder, l);
      hold(l.folder);
    }
    for (const g of topology.groups) view.groupAt.set(g.id, g);
    for (const e of topology.edges) {
      (view.out.get(e.from) ?? view.out.set(e.from, []).get(e.from)!).push(e);
      (view.in.get(e.to) ?? view.in.set(e.to, []).get(e.to)!).push(e);
    }
    this.view = view;
    return view;
  }

  /** The nearest service or library folder above `dir` (not `dir` itself). */
  private ownerOf(
    dir: string,
    v: TopologyView,
  ): { kind: 'service' | 'library'; folder: string; name: string; type?: string } | undefined {
    for (let d = dir; d !== '.';) {
      d = parentRel(d);
      const s = v.serviceAt.get(d);
      if (s && (d !== '.' || v.topology.services.filter((x) => !x.composeOnly).length === 1))
        return { kind: 'service', folder: d, name: s.name, type: s.type };
      const l = v.libraryAt.get(d);
      if (l) return { kind: 'library', folder: d, name: l.name };
    }
    return undefined;
  }

  private compose(dir: string, parent: FolderPurpose | undefined, named: Set<string>): FolderDescription {
    const v = this.topologyView();
    const ix = this.index;
    const listing = ix.folder(dir)!;
    const service = v.serviceAt.get(dir);
    const ownServices = v.topology.services.filter((s) => !s.composeOnly);
    const onlyService = dir === '.' && service !== undefined && ownServices.length === 1;
    const library = v.libraryAt.get(dir);
    const owner = this.ownerOf(dir, v);
    const purpose = classifyPurpose({
      dir,
      files: listing.files,
      subdirs: listing.subdirs,
      service,
      onlyService,
      library,
      group: v.groupAt.get(dir),
      owner,
      holdsServices: v.holders.has(dir),
      parent,
      read: (rel) => ix.read(rel).text,
    });
    if (service) named.add(service.id);
    const ownerService = owner?.kind === 'service' ? v.serviceAt.get(owner.folder) : undefined;
    if (ownerService) named.add(ownerService.id);

    const sources = this.readSources(dir, purpose.value === 'service' || purpose.value === 'library');
    const protos = this.protoIndex();
    const capabilities: Capability[] = [];
    if (purpose.value !== 'tests' && purpose.value !== 'generated')
      capabilities.push(...codeCapabilities(sources, protos));
    for (const f of listing.files) {
      const rel = joinRel(dir, f);
      if (f.endsWith('.proto'))
        capabilities.push(...protoCapabilities(rel, readProtoServices(ix.read(rel).text ?? '')));
      else if (/^(package\.json|pyproject\.toml|setup\.cfg|Cargo\.toml)$/.test(f)) {
        // A service's package.json main is how it starts, not an API others import.
        const found = manifestCapabilities(rel, ix.read(rel).text ?? '');
        capabilities.push(...found.filter((c) => c.kind !== 'library-export' || purpose.value === 'library'));
      } else if (/\.ya?ml$/.test(f) && (purpose.value === 'infrastructure' || purpose.value === 'ci'))
        capabilities.push(...cronJobCapabilities(rel, ix.read(rel).text ?? ''));
    }
    if (purpose.value === 'library') {
      for (const s of sources.filter((x) => /(^|\/)(index|lib|mod|__init__)\.\w+$/.test(x.file)).slice(0, 2))
        capabilities.push(...exportedNames(s.file, s.text));
    }

    const stack = this.stackOf(dir, listing.files, service, sources);
    const entryPoints = this.entryPointsOf(dir, service, library, capabilities);
    const envRead = this.envOf(service, sources);
    const links = this.linksOf(dir, purpose.value, service, library, owner, v, named);
    const deployment = this.deploymentOf(dir, listing.files, service, v);
    const related = this.relatedOf(dir, links, deployment.value, capabilities, v);
    const suggestions = this.suggestionsOf(
      dir,
      purpose.value,
      service,
      capabilities,
      links,
      deployment.value,
      owner,
      v,
    );
    const summary = summarize(dir, purpose.value, {
      service,
      library,
      owner,
      stack: stack.value,
      capabilities,
      links,
      listing: listing.files,
      v,
    });
    return {
      folder: dir,
      purpose,
      summary: { value: summary, confidence: purpose.confidence, evidence: purpose.evidence },
      stack,
      capabilities: {
        value: capabilities,
        confidence: capabilities.length ? 0.85 : 0.5,
        evidence: capabilities.slice(0, 3).map((c) => c.evidence),
      },
      entryPoints,
      envRead,
      dependsOn: links.dependsOn,
      usedBy: links.usedBy,
      testsFor: links.testsFor,
      testedBy: links.testedBy,
      deployment,
      related,
      suggestions,
      ...(service ? { service: service.name } : ownerService ? { service: ownerService.name } : {}),
    };
  }

  /** Source files of the folder (and, for a service or library, of its code below), best candidates first. */
  private sourceCandidates(dir: string, subtree = false): string[] {
    const ix = this.index;
    const own = (ix.folder(dir)?.files ?? []).filter((f) => languageForFile(f)).map((f) => joinRel(dir, f));
    const routeNamed = (f: string) => Number(ROUTE_FILE_NAMES.test(baseName(f)));
    own.sort((a, b) => routeNamed(b) - routeNamed(a));
    if (!subtree) {
      const known = own.filter((f) => this.facts.has(f));
      const rest = own.filter((f) => !this.facts.has(f) && routeNamed(f)).slice(0, FILES_PER_MODULE);
      return [...known, ...rest].slice(0, FILES_PER_FOLDER);
    }
    const picked = own.slice(0, FILES_PER_FOLDER);
    const queue = [...(ix.folder(dir)?.subdirs ?? []).map((s) => joinRel(dir, s))];
    const below: string[] = [];
    const v = this.topologyView();
    while (queue.length && below.length < FILES_PER_SUBTREE * 4) {
      const d = queue.shift()!;
      const name = d.slice(d.lastIndexOf('/') + 1);
      const p = purposeByName(name);
      // Another service's code, tests and generated stubs are not this folder's capabilities.
      if (v.serviceAt.has(d) || v.libraryAt.has(d) || (p && !BELOW_SERVICE_CODE.has(p))) continue;
      const l = ix.folder(d);
      if (!l) continue;
      for (const f of l.files) if (languageForFile(f)) below.push(joinRel(d, f));
      for (const s of l.subdirs) queue.push(joinRel(d, s));
    }
    // Routes, servers and consumers live in files named for them; a few others are read in case they do not.
    const named = below.filter((f) => ROUTE_FILE_NAMES.test(baseName(f)));
    const others = below.filter((f) => !ROUTE_FILE_NAMES.test(baseName(f))).slice(0, UNNAMED_PER_SUBTREE);
    return [...picked, ...[...named, ...others].slice(0, FILES_PER_SUBTREE)];
  }

  private readSources(dir: string, subtree: boolean): ReadSource[] {
    const out: ReadSource[] = [];
    for (const file of this.sourceCandidates(dir, subtree)) {
      const text = this.index.read(file).text;
      if (text === undefined) continue;
      const cached = this.facts.get(file);
      if (cached && cached.text === text) {
        out.push({ file, text, facts: cached.facts });
        continue;
      }
      const lang = languageForFile(file);
      let facts: CodeFacts | undefined;
      if (lang && codeReadersReady(lang) && WORTH_PARSING.test(text)) facts = readCode(lang, text);
      if (facts) this.facts.set(file, { text, facts });
      out.push({ file, text, facts });
    }
    return out;
  }

  /** gRPC services of every .proto file in the workspace, by bare and qualified name. */
  private protoIndex(): ProtoIndex {
    if (this.protos) return this.protos;
    const byName: ProtoIndex['byName'] = new Map();
    const files: string[] = [];
    const ix = this.index;
    for (const l of ix.allFolders())
      for (const f of l.files) {
        if (!f.endsWith('.proto')) continue;
        const rel = joinRel(l.dir, f);
        files.push(rel);
        for (const s of readProtoServices(ix.read(rel).text ?? '')) {
          if (!byName.has(s.fullName)) byName.set(s.fullName, { file: rel, service: s });
          if (!byName.has(s.name)) byName.set(s.name, { file: rel, service: s });
        }
      }
    this.protos = { byName, files };
    return this.protos;
  }

  /** Kubernetes and Helm files and the names (metadata.name, image basenames) they mention. */
  private manifestIndex(): { files: string[]; names: Map<string, string[]> } {
    if (this.manifests) return this.manifests;
    const names = new Map<string, string[]>();
    const files: string[] = [];
    const ix = this.index;
    for (const l of ix.allFolders()) {
      const segments = l.dir.split('/');
      const infra =
        segments.some((s) => purposeByName(s) === 'infrastructure') ||
        l.files.includes('Chart.yaml') ||
        l.files.includes('kustomization.yaml');
      for (const f of l.files) {
        if (!/\.ya?ml$/.test(f) || (!infra && !/(deployment|k8s|kube|manifest)/i.test(f))) continue;
        const rel = joinRel(l.dir, f);
        const text = ix.read(rel).text ?? '';
        if (!/^\s*(apiVersion|kind):/m.test(text) && !/\{\{/.test(text)) continue;
        files.push(rel);
        const found = new Set<string>();
        for (const m of text.matchAll(/^\s*(?:name|app|app\.kubernetes\.io\/name):\s*["']?([\w.-]+)/gm))
          found.add(m[1].toLowerCase());
        for (const m of text.matchAll(/^\s*image:\s*["']?(?:[^\s"']*\/)?([\w.-]+?)(?::[^\s"']*)?["']?\s*$/gm))
          found.add(m[1].toLowerCase());
        for (const n of found) (names.get(n) ?? names.set(n, []).get(n)!).push(rel);
      }
    }
    this.manifests = { files, names };
    return this.manifests;
  }

  private stackOf(
    dir: string,
    files: readonly string[],
    service: Service | undefined,
    sources: ReadSource[],
  ): Fact<Stack> {
    const ix = this.index;
    const languages = new Map<string, number>();
    const evidence: Evidence[] = [];
    const count = (file: string) => {
      const lang = languageForFile(file);
      const name = lang ? LANGUAGE_NAMES[lang] : OTHER_LANGUAGES[path.extname(file).toLowerCase()];
      if (name) languages.set(name, (languages.get(name) ?? 0) + 1);
    };
    for (const f of files) count(f);
    for (const s of sources)
      if (!s.file.startsWith(`${dir}/`) || s.file.slice(dir.length + 1).includes('/')) count(s.file);
    const ranked = [...languages.entries()].sort((a, b) => b[1] - a[1]).map(([l]) => l);
    if (service?.language) {
      const name = LANGUAGE_NAMES[service.language] ?? service.language[0].toUpperCase() + service.language.slice(1);
      ranked.splice(ranked.indexOf(name) >= 0 ? ranked.indexOf(name) : ranked.length, 1);
      ranked.unshift(name);
      evidence.push(...service.evidence.slice(0, 1));
    }
    const runtimes: string[] = [];
    const runtime = (file: string, re: RegExp, label: (m: RegExpExecArray) => string) => {
      if (!files.includes(file)) return;
      const rel = joinRel(dir, file);
      const text = ix.read(rel).text ?? '';
      const m = re.exec(text);
      if (!m) return;
      runtimes.push(label(m));
      evidence.push({ file: rel, line: text.slice(0, m.index).split('\n').length, reason: `${label(m)} from ${file}` });
    };
    runtime('package.json', /"node"\s*:\s*"([^"]+)"/, (m) => `node ${m[1]}`);
    runtime('.nvmrc', /^\s*v?([\w.]+)/, (m) => `node ${m[1]}`);
    runtime('go.mod', /^go\s+([\d.]+)/m, (m) => `go ${m[1]}`);
    runtime('.python-version', /^\s*([\d.]+)/, (m) => `python ${m[1]}`);
    runtime('pyproject.toml', /requires-python\s*=\s*"([^"]+)"/, (m) => `python ${m[1]}`);
    runtime('runtime.txt', /^\s*python-([\d.]+)/, (m) => `python ${m[1]}`);
    runtime('Cargo.toml', /rust-version\s*=\s*"([^"]+)"/, (m) => `rust ${m[1]}`);
    runtime('Dockerfile', /^FROM\s+(?:--platform=\S+\s+)?(\S+)/im, (m) => `image ${m[1]}`);
    const frameworks = service?.frameworks ?? [];
    return {
      value: { languages: ranked, frameworks: [...frameworks], runtimes },
      confidence: ranked.length ? (service ? 0.9 : 0.75) : 0.4,
      evidence: evidence.length
        ? evidence
        : [{ file: dir, reason: `${ranked.length ? ranked.join(', ') : 'no'} source files` }],
    };
  }

  private entryPointsOf(
    dir: string,
    service: Service | undefined,
    library: Library | undefined,
    caps: Capability[],
  ): Fact<EntryPoint[]> {
    const out: EntryPoint[] = [];
    if (service?.start)
      out.push({ command: service.start.command, file: service.start.evidence.file, evidence: service.start.evidence });
    for (const p of service?.ports ?? []) {
      if (p.source === 'code' && !out.some((e) => e.file === p.evidence.file))
        out.push({ file: p.evidence.file, evidence: p.evidence });
    }
    if (library || !service) {
      for (const c of caps) {
        if (c.kind === 'library-export' && c.evidence.reason === 'package.json entry point')
          out.push({ file: joinRel(dir, c.name.replace(/^\.\//, '')), evidence: c.evidence });
        if (c.kind === 'cli-command' && c.detail && /\.[cm]?[jt]s$|:/.test(c.detail))
          out.push({
            command: c.name,
            file: c.detail.includes(':') ? undefined : joinRel(dir, c.detail.replace(/^\.\//, '')),
            evidence: c.evidence,
          });
      }
    }
    return { value: out, confidence: out.length ? 0.85 : 0.5, evidence: out.map((e) => e.evidence).slice(0, 3) };
  }

  private envOf(service: Service | undefined, sources: ReadSource[]): Fact<string[]> {
    const names = new Set<string>();
    const evidence: Evidence[] = [];
    for (const e of service?.env ?? []) {
      if (!names.has(e.name))
        evidence.push({ file: e.evidence.file, line: e.evidence.line, reason: `reads ${e.name}` });
      names.add(e.name);
    }
    for (const s of sources)
      for (const r of s.facts?.envReads ?? []) {
        if (!names.has(r.name)) evidence.push({ file: s.file, line: r.line, reason: `reads ${r.name}` });
        names.add(r.name);
      }
    return { value: [...names].sort(), confidence: names.size ? 0.85 : 0.5, evidence: evidence.slice(0, 8) };
  }

  private linksOf(
    dir: string,
    purpose: FolderPurpose,
    service: Service | undefined,
    library: Library | undefined,
    owner: { kind: 'service' | 'library'; folder: string; name: string } | undefined,
    v: TopologyView,
    named: Set<string>,
  ): {
    dependsOn: Fact<FolderLink[]>;
    usedBy: Fact<FolderLink[]>;
    testsFor: Fact<FolderLink[]>;
    testedBy: Fact<FolderLink[]>;
  } {
    const dependsOn: FolderLink[] = [];
    const usedBy: FolderLink[] = [];
    const testsFor: FolderLink[] = [];
    const testedBy: FolderLink[] = [];
    const link = (s: Service, kind: FolderLink['kind'], evidence: Evidence[]): FolderLink => {
      named.add(s.id);
      return { folder: s.folder, service: s.name, kind, evidence: evidence.slice(0, 2) };
    };
    if (service) {
      for (const e of v.out.get(service.id) ?? []) {
        const to = v.byId.get(e.to);
        if (to) dependsOn.push(link(to, e.kind, e.evidence));
      }
      for (const e of v.in.get(service.id) ?? []) {
        const from = v.byId.get(e.from);
        if (from) usedBy.push(link(from, e.kind, e.evidence));
      }
      for (const id of service.libraries ?? []) {
        const l = v.topology.libraries.find((x) => x.id === id);
        if (l) dependsOn.push({ folder: l.folder, kind: 'library', evidence: l.evidence.slice(0, 1) });
      }
    }
    if (library) {
      for (const s of v.topology.services) {
        if (s.libraries?.includes(library.id))
          usedBy.push(
            link(s, 'library', [{ file: s.indicators[0] ?? s.folder, reason: `${s.name} uses ${library.name}` }]),
          );
      }
    }
    if (owner && purpose === 'module') {
      dependsOn.push({
        folder: owner.folder,
        service: owner.kind === 'service' ? owner.name : undefined,
        kind: 'inside',
        evidence: [{ file: dir, reason: `part of ${owner.name}` }],
      });
    }
    if (purpose === 'tests' && dir !== '.') {
      const target = owner?.folder ?? parentRel(dir);
      testsFor.push({
        folder: target,
        service: owner?.kind === 'service' ? owner.name : undefined,
        kind: 'tests',
        evidence: [{ file: dir, reason: owner ? `tests inside ${owner.name}` : `tests next to ${target}` }],
      });
    }
    if (purpose !== 'tests') {
      const ix = this.index;
      const listing = ix.folder(dir);
      for (const sub of listing?.subdirs ?? [])
        if (purposeByName(sub) === 'tests')
          testedBy.push({
            folder: joinRel(dir, sub),
            kind: 'tests',
            evidence: [{ file: joinRel(dir, sub), reason: `a ${sub} folder inside` }],
          });
      const own = (listing?.files ?? []).filter((f) =>
        /(_test\.(go|py)|^test_.*\.py|\.(test|spec)\.[cm]?[jt]sx?)$/.test(f),
      );
      if (own.length)
        testedBy.push({
          folder: dir,
          kind: 'tests',
          evidence: [{ file: joinRel(dir, own[0]), reason: `${own.length} test file(s) beside the code` }],
        });
      // Java/Kotlin/Maven layouts keep tests in a sibling tree: src/test next to src/main.
      if (service && ix.folder(joinRel(dir, 'src/test')))
        testedBy.push({
          folder: joinRel(dir, 'src/test'),
          kind: 'tests',
          evidence: [{ file: joinRel(dir, 'src/test'), reason: 'Maven/Gradle test sources' }],
        });
    }
    const f = <T>(value: T[], c: number): Fact<T[]> => ({
      value,
      confidence: value.length ? c : 0.5,
      evidence: (value as FolderLink[]).flatMap((l) => l.evidence).slice(0, 4),
    });
    return {
      dependsOn: f(dependsOn, 0.85),
      usedBy: f(usedBy, 0.85),
      testsFor: f(testsFor, 0.75),
      testedBy: f(testedBy, 0.8),
    };
  }

  private deploymentOf(
    dir: string,
    files: readonly string[],
    service: Service | undefined,
    v: TopologyView,
  ): Fact<DeploymentRef[]> {
    const out: DeploymentRef[] = [];
    if (service?.build?.dockerfile)
      out.push({ kind: 'dockerfile', file: service.build.dockerfile, evidence: service.build.evidence });
    else if (service?.build)
      out.push({
        kind: 'generated-dockerfile',
        file: `.kyozo/dockerfiles/${service.name}.Dockerfile`,
        evidence: service.build.evidence,
      });
    else if (files.includes('Dockerfile'))
      out.push({
        kind: 'dockerfile',
        file: joinRel(dir, 'Dockerfile'),
        evidence: { file: joinRel(dir, 'Dockerfile'), reason: 'a Dockerfile in the folder' },
      });
    for (const e of service?.evidence ?? []) {
      if (/(^|\/)(docker-)?compose[\w.-]*\.ya?ml$/.test(e.file) && !out.some((d) => d.file === e.file))
        out.push({ kind: 'compose', file: e.file, evidence: e });
    }
    if (files.includes('kyozo.yaml'))
      out.push({
        kind: 'kyozo-yaml',
        file: joinRel(dir, 'kyozo.yaml'),
        evidence: { file: joinRel(dir, 'kyozo.yaml'), reason: 'service manifest' },
      });
    if (service) {
      const manifests = this.manifestIndex();
      const keys = new Set([service.name.toLowerCase(), dir.slice(dir.lastIndexOf('/') + 1).toLowerCase()]);
      for (const k of keys)
        for (const file of manifests.names.get(k) ?? []) {
          if (out.some((d) => d.file === file)) continue;
          const helm =
            file.split('/').some((s) => /^(helm|charts?|helm-charts?)$/.test(s)) ||
            /\{\{/.test(this.index.read(file).text ?? '');
          out.push({ kind: helm ? 'helm' : 'kubernetes', file, evidence: { file, reason: `names ${k}` } });
        }
    }
    void v;
    return { value: out, confidence: out.length ? 0.85 : 0.5, evidence: out.map((d) => d.evidence).slice(0, 4) };
  }

  private relatedOf(
    dir: string,
    links: ReturnType<FolderDescriber['linksOf']>,
    deployment: DeploymentRef[],
    caps: Capability[],
    v: TopologyView,
  ): Fact<RelatedFolder[]> {
    const scores = new Map<string, RelatedFolder>();
    const bump = (folder: string, score: number, reason: string) => {
      if (folder === dir) return;
      const r = scores.get(folder) ?? scores.set(folder, { folder, score: 0, reasons: [] }).get(folder)!;
      r.score += score;
      if (!r.reasons.includes(reason)) r.reasons.push(reason);
    };
    for (const l of links.dependsOn.value)
      bump(
        l.folder,
        l.kind === 'inside' ? 1 : 3,
        l.kind === 'inside' ? `part of ${l.service ?? l.folder}` : `calls ${l.service ?? l.folder} (${l.kind})`,
      );
    for (const l of links.usedBy.value) bump(l.folder, 3, `called by ${l.service ?? l.folder} (${l.kind})`);
    for (const l of links.testsFor.value) bump(l.folder, 2, 'tested here');
    for (const l of links.testedBy.value) bump(l.folder, 2, 'tests it');
    const protos = this.protoIndex();
    const grpcNames = new Set(
      caps.filter((c) => c.kind === 'grpc-server' || c.kind === 'grpc-client').map((c) => c.name),
    );
    for (const name of grpcNames) {
      const p = protos.byName.get(name);
      if (p) bump(parentRel(p.file), 2, `defines ${p.service.name} in ${p.file}`);
    }
    for (const d of deployment)
      if (d.kind === 'kubernetes' || d.kind === 'helm') bump(parentRel(d.file), 1, `deploys it (${d.file})`);
    void v;
    const value = [...scores.values()]
      .sort((a, b) => b.score - a.score || a.folder.localeCompare(b.folder))
      .slice(0, 10);
    return {
      value,
      confidence: value.length ? 0.75 : 0.5,
      evidence: value.slice(0, 3).map((r) => ({ file: r.folder, reason: r.reasons.join('; ') })),
    };
  }

  private suggestionsOf(
    dir: string,
    purpose: FolderPurpose,
    service: Service | undefined,
    caps: Capability[],
    links: ReturnType<FolderDescriber['linksOf']>,
    deployment: DeploymentRef[],
    owner: { kind: string; folder: string; name: string } | undefined,
    v: TopologyView,
  ): Fact<string[]> {
    const out: string[] = [];
    const evidence: Evidence[] = [];
    for (const r of v.topology.recommendations) {
      if ((service && r.serviceId === service.id) || (r.file && parentRel(r.file) === dir)) {
        out.push(r.message);
        if (r.file) evidence.push({ file: r.file, line: r.line, reason: r.code });
      }
    }
    const protos = this.protoIndex();
    for (const c of caps) {
      if (c.kind !== 'grpc-server' && c.kind !== 'grpc-client') continue;
      const p = protos.byName.get(c.name);
      if (p && !out.some((s) => s.includes(p.file)))
        out.push(`its API is defined in ${p.file} (${p.service.fullName})`);
    }
    for (const t of links.testedBy.value) if (t.folder !== dir) out.push(`its tests are in ${t.folder}`);
    for (const d of deployment)
      if (d.kind === 'kubernetes' || d.kind === 'helm')
        out.push(`${d.kind === 'helm' ? 'a Helm template' : 'a Kubernetes manifest'} deploys it: ${d.file}`);
    if (owner && purpose === 'module')
      out.push(`part of the ${owner.kind} ${owner.name}: describe ${owner.folder} for how it runs`);
    if (purpose === 'generated')
      out.push('generated files: change their source (a .proto, a schema) and regenerate instead of editing them');
    return { value: out, confidence: out.length ? 0.7 : 0.5, evidence: evidence.slice(0, 4) };
  }
}

function sameLibraries(a: Topology, b: Topology): boolean {
  return a.libraries.map((l) => l.folder).join('\n') === b.libraries.map((l) => l.folder).join('\n');
}

const baseName = (file: string) => file.slice(file.lastIndexOf('/') + 1);

export function byDepth(a: string, b: string): number {
  const da = a === '.' ? 0 : a.split('/').length;
  const db = b === '.' ? 0 : b.split('/').length;
  return da - db || (a < b ? -1 : a > b ? 1 : 0);
}

interface SummaryInput {
  service?: Service;
  library?: Library;
  owner?: { kind: string; folder: string; name: string };
  stack: Stack;
  capabilities: Capability[];
  links: { dependsOn: Fact<FolderLink[]>; usedBy: Fact<FolderLink[]>; testsFor: Fact<FolderLink[]> };
  listing: readonly string[];
  v: TopologyView;
}

const list = (xs: string[], max = 3) =>
  xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', ');
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const uniq = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => Boolean(x)))];

/** One sentence a person would write about the folder. */
function summarize(dir: string, purpose: FolderPurpose, x: SummaryInput): string {
  const lang = x.stack.languages[0];
  const count = (kind: Capability['kind']) => x.capabilities.filter((c) => c.kind === kind);
  switch (purpose) {
    case 'service': {
      const s = x.service!;
      const grpc = count('grpc-server').map((c) => c.name.split('.').pop()!);
      const routes = count('http-route');
      // "HTTP service in Go (chi) with 2 routes, on port 8080; calls db; called by api."
      const what = grpc.length ? `gRPC service (${list(grpc)})` : routes.length ? 'HTTP service' : `${s.type} service`;
      const fw = s.frameworks.length ? ` (${s.frameworks.join(', ')})` : '';
      const routeCount = !grpc.length && routes.length ? ` with ${plural(routes.length, 'route')}` : '';
      const calls = uniq(x.links.dependsOn.value.filter((l) => l.kind !== 'library').map((l) => l.service));
      const callers = uniq(x.links.usedBy.value.map((l) => l.service));
      const port = s.ports[0] ? `, on port ${s.ports[0].container}` : '';
      const rel = [calls.length ? `calls ${list(calls)}` : '', callers.length ? `called by ${list(callers)}` : '']
        .filter(Boolean)
        .join('; ');
      return `${what}${lang ? ` in ${lang}` : ''}${fw}${routeCount}${port}${rel ? `; ${rel}` : ''}.`;
    }
    case 'library': {
      const users = uniq(x.links.usedBy.value.map((l) => l.service));
      const usedBy = users.length ? ` used by ${list(users)}` : '';
      return `${lang ? `${lang} ` : ''}library ${x.library?.name ?? dir}${usedBy}.`;
    }
    case 'module': {
      const routes = count('http-route').length;
      const inside = x.owner ? ` of the ${x.owner.kind} ${x.owner.name}` : '';
      return `${lang ? `${lang} code` : 'Code'}${inside}${routes ? ` defining ${plural(routes, 'HTTP route')}` : ''}.`;
    }
    case 'tests': {
      const target = x.links.testsFor.value[0];
      return `Tests${target ? ` for ${target.service ?? target.folder}` : ''}${lang ? ` (${lang})` : ''}.`;
    }
    case 'api-definitions': {
      const services = uniq(count('grpc-method').map((c) => c.name.split('/')[0].split('.').pop()));
      return services.length
        ? `API definitions: gRPC services ${list(services)}.`
        : `API definitions (${list(x.listing.slice(), 4)}).`;
    }
    case 'generated':
      return `Generated code${lang ? ` (${lang})` : ''}; regenerate it rather than editing by hand.`;
    case 'infrastructure': {
      const kinds = x.listing.some((f) => f.endsWith('.tf'))
        ? 'Terraform'
        : x.listing.includes('Chart.yaml')
          ? 'Helm chart'
          : 'deployment manifests';
      return `Infrastructure: ${kinds} (${list(x.listing.slice(), 4) || 'subfolders'}).`;
    }
    case 'workspace-root': {
      const services = x.v.topology.services
        .filter((s) => dir === '.' || s.folder === dir || s.folder.startsWith(`${dir}/`))
        .map((s) => s.name);
      const named = services.length ? `: ${list(services, 5)}` : '';
      return `${dir === '.' ? 'Workspace root' : 'Groups'} with ${services.length} service(s)${named}.`;
    }
    default: {
      const words: Record<string, string> = {
        docs: 'Documentation',
        ci: 'CI configuration',
        scripts: 'Scripts',
        config: 'Configuration',
        assets: 'Static assets',
        data: 'Data (fixtures, seeds or migrations)',
        examples: 'Examples',
      };
      return `${words[purpose]}${x.listing.length ? ` (${list(x.listing.slice(), 3)})` : ''}.`;
    }
  }
}

/** One folder of the workspace at `root`, analysed for the occasion (keep a FolderDescriber to describe many). */
export async function describeFolder(root: string, folder: string): Promise<FolderDescription> {
  return (await FolderDescriber.open(root)).describe(folder, root);
}
