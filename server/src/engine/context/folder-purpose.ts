// One purpose per folder, from what the topology says about it (a service, a library, a group), its parent's
// purpose, its name, and the kinds of files it holds, in that order of trust. Pure: the caller hands in the listing,
// the topology facts and a reader for the few files whose content decides (a YAML file's `kind:`).
import type { Evidence, Group, Library, Service } from '../../protocol';
import type { Fact, FolderPurpose } from './folder-description';

/** A whole-name match of any of the space-separated patterns. */
function oneOf(patterns: string, flags = ''): RegExp {
  return new RegExp(`^(${patterns.trim().split(/\s+/).join('|')})$`, flags);
}

function extensions(list: string): RegExp {
  return new RegExp(`\\.(${list.split(' ').join('|')})$`, 'i');
}

export interface PurposeInput {
  dir: string;
  files: readonly string[];
  subdirs: readonly string[];
  /** The service whose folder this is (not an image-only one). */
  service?: Service;
  /** True when the root is that service and no other folder is one. */
  onlyService?: boolean;
  library?: Library;
  group?: Group;
  /** The service or library folder this folder lies inside, if any (with the service's type). */
  owner?: { kind: 'service' | 'library'; folder: string; name: string; type?: string };
  /** True when a service or library lives somewhere below. */
  holdsServices: boolean;
  parent?: FolderPurpose;
  read(rel: string): string | undefined;
}

const NAME_RULES: [RegExp, FolderPurpose][] = [
  [
    /^(\.github|\.gitlab|\.circleci|\.buildkite|\.ci|ci|\.azure-pipelines|\.woodpecker|\.drone|\.tekton|workflows)$/,
    'ci',
  ],
  [
    /^(genproto|gen|generated|__generated__|pb|gen-?go|gen-?py|gen-?ts|protogen|proto-gen|codegen|stubs)$|[_-]pb$/,
    'generated',
  ],
  [
    oneOf(
      'fixtures? seeds? seed-data migrations? data datasets? testdata sql db-migrations alembic flyway ' +
        'liquibase dumps',
    ),
    'data',
  ],
  [
    new RegExp(
      oneOf(
        'tests? __tests__ specs? e2e integration[-_]tests? unit[-_]tests? testing test[-_]?utils? ' +
          'cypress playwright',
      ).source + String.raw`|[-_.]tests?$|^tests?[-_]`,
      'i',
    ),
    'tests',
  ],
  [/^(docs?|documentation|adrs?|wiki|man|guides?)$/, 'docs'],
  [
    oneOf(
      'docker k8s kube kubernetes kubernetes-manifests manifests helm helm-charts? charts? terraform tf ' +
        'infra infrastructure ' +
        'deploy deployments? ansible kustomize istio istio-manifests overlays argocd pulumi nomad skaffold',
    ),
    'infrastructure',
  ],
  [/^(protos?|protobufs?|openapi|swagger|graphql|schemas?|idl|thrift|avro|api-?specs?)$/, 'api-definitions'],
  [/^(scripts?|tools|hack|bin)$/, 'scripts'],
  [
    /^(config|configs|conf|cfg|settings|\.config|environments|\.vscode|\.devcontainer|\.husky|resources|gradle|\.mvn)$/,
    'config',
  ],
  [
    oneOf(
      'static public assets images img imgs media icons fonts css styles scss sass templates views layouts ' +
        'partials www ' +
        'locales i18n translations screenshots',
    ),
    'assets',
  ],
  [/^(examples?|samples?|demos?|sandbox|playground|quickstart|starters?)$/, 'examples'],
];

/** Under these, a child is what its parent is, unless its own name says one of the listed purposes. */
const INHERITED: Partial<Record<FolderPurpose, FolderPurpose[]>> = {
  tests: ['data'],
  docs: ['assets', 'examples'],
  infrastructure: [],
  ci: [],
  generated: [],
  data: [],
  assets: [],
  'api-definitions': ['generated'],
  scripts: [],
  config: [],
  examples: ['docs', 'tests'],
};

const CODE = extensions(
  'js mjs cjs jsx ts mts cts tsx py go rs java kt kts scala rb php cs fs ex exs erl gleam c cc cpp h hpp ' +
    'swift dart lua clj vue svelte',
);
const TEST_FILE =
  /(_test\.(go|py|exs)|^test_.*\.py|\.(test|spec)\.[cm]?[jt]sx?|Tests?\.(java|kt|cs)|_spec\.rb|Test\.php)$/;
const GENERATED_FILE =
  /(\.pb\.go|_pb2(_grpc)?\.pyi?|_grpc\.pb\.go|_pb\.[jt]s|_grpc_pb\.[jt]s|\.pb\.(h|cc)|\.g\.dart|\.generated\.\w+)$/;
const DOC_FILE = /\.(md|mdx|rst|adoc|txt)$/i;
const ASSET_FILE = extensions(
  'png jpe?g gif svg ico webp avif bmp woff2? ttf otf eot css scss sass less html? hbs ejs pug njk j2 jinja2? ' +
    'mp3 mp4 webm wav',
);
const DATA_FILE = /\.(sql|csv|tsv|parquet|ndjson|jsonl|sqlite|db)$/i;
const SCRIPT_FILE = /\.(sh|bash|zsh|ps1|bat|cmd)$/i;
const CONFIG_FILE = /\.(ya?ml|json|jsonc|toml|ini|conf|cfg|env|properties|xml)$|^\.env/i;
const API_FILE = /\.(proto|graphql|gql|thrift|avsc|smithy)$/i;
const INFRA_FILE =
  /\.(tf|tfvars|hcl)$|^(Chart\.ya?ml|kustomization\.ya?ml|helmfile\.ya?ml|values\.ya?ml|skaffold\.ya?ml)$/i;
const MANIFEST = oneOf(
  String.raw`package\.json go\.mod Cargo\.toml pyproject\.toml setup\.py requirements\.txt pom\.xml ` +
    String.raw`build\.gradle(\.kts)? Gemfile ` +
    String.raw`composer\.json mix\.exs .*\.csproj CMakeLists\.txt gleam\.toml deno\.jsonc?`,
);

const ev = (file: string, reason: string, line?: number): Evidence =>
  line ? { file, line, reason } : { file, reason };
const at = (dir: string, name: string) => (dir === '.' ? name : `${dir}/${name}`);
const fact = (value: FolderPurpose, confidence: number, evidence: Evidence[]): Fact<FolderPurpose> => ({
  value,
  confidence,
  evidence,
});

export function purposeByName(name: string): FolderPurpose | undefined {
  for (const [re, purpose] of NAME_RULES) if (re.test(name)) return purpose;
  return undefined;
}

/** A YAML file that is a Kubernetes object (apiVersion and kind at the top level). */
function isKubernetesYaml(text: string | undefined): boolean {
  return text !== undefined && /^apiVersion:\s*\S+/m.test(text) && /^kind:\s*\w+/m.test(text);
}

function isOpenApi(text: string | undefined): boolean {
  return text !== undefined && /^\s*["']?(openapi|swagger)["']?\s*:\s*["']?\d/m.test(text.slice(0, 2000));
}

export function classifyPurpose(input: PurposeInput): Fact<FolderPurpose> {
  const { dir, files, service, library } = input;
  const name = dir === '.' ? '.' : dir.slice(dir.lastIndexOf('/') + 1);
  if (service?.type === 'infrastructure' && !service.image && !service.ports.length) {
    return fact('infrastructure', 0.9, [
      ev(service.indicators[0] ?? dir, `${service.frameworks.join(', ') || 'infrastructure'} code, nothing to run`),
    ]);
  }
  if (service) {
    if (dir !== '.' || input.onlyService) {
      return fact('service', Math.max(0.6, service.confidence), [
        ev(service.indicators[0] ?? dir, `${service.name} is a ${service.type} service`),
        ...service.evidence.slice(0, 2),
      ]);
    }
  }
  // A test project is detected as a library (nothing in it starts); its name says better.
  if (library && purposeByName(dir.slice(dir.lastIndexOf('/') + 1)) === 'tests') {
    return fact('tests', 0.85, [ev(library.evidence[0]?.file ?? dir, `the test project ${library.name}`)]);
  }
  if (library)
    return fact('library', 0.9, [
      ev(library.evidence[0]?.file ?? dir, `the library ${library.name} lives here`),
      ...library.evidence.slice(0, 1),
    ]);
  if (dir === '.') {
    return fact('workspace-root', 0.95, [
      ev(
        '.',
        input.group
          ? `the root groups ${input.group.members.length} members (${input.group.tool})`
          : 'the root of the workspace',
      ),
    ]);
  }

  // A parent of a purpose that covers its subtree (tests, docs, manifests) passes it on.
  const byName = purposeByName(name);
  const parent = input.parent;
  const keepsOwn = parent ? INHERITED[parent] : undefined;
  if (parent && keepsOwn) {
    if (byName && keepsOwn.includes(byName))
      return fact(byName, 0.8, [ev(dir, `named ${name}, inside a folder of ${parent}`)]);
    return fact(parent, 0.85, [ev(dir, `inside a folder of ${parent}`)]);
  }

  const counts = countKinds(files);
  const code = counts.code;
  // .NET build output (bin/Debug/net8.0) is committed more often than it should be.
  if (
    name === 'bin' &&
    (input.subdirs.some((d) => /^(Debug|Release)$/.test(d)) || files.some((f) => /\.(dll|pdb|exe)$/i.test(f)))
  ) {
    return fact('generated', 0.85, [ev(dir, 'build output (Debug/Release, assemblies)')]);
  }
  // Inside a JVM source root, folders are package names (com/example, acme/seed), not purposes.
  const packagePath = /(^|\/)src\/(main|test)\/(java|kotlin|scala)\/./.test(dir);
  const named = packagePath ? undefined : byName;
  // Generated code is named for it file by file (.pb.go, _pb2.py) whatever its folder is called.
  if (counts.generated > 0 && counts.generated * 2 >= code) {
    const sample = files.find((f) => GENERATED_FILE.test(f))!;
    return fact('generated', 0.9, [
      ev(at(dir, sample), `${counts.generated} generated source file(s) such as ${sample}`),
    ]);
  }
  // A bin/ of code files is the program's own entry code, and PHP's public/ holds its front controller.
  const entryCode =
    (named === 'scripts' && name === 'bin' && code > 0 && counts.scripts === 0 && input.owner) ||
    (named === 'assets' && files.includes('index.php'));
  if (named && !entryCode) {
    return fact(named, 0.9, [ev(dir, `a folder named ${name} holds ${named}`)]);
  }
  if (input.group && !input.owner)
    return fact('workspace-root', 0.9, [
      ev(input.group.evidence[0]?.file ?? dir, `groups ${input.group.members.length} members (${input.group.tool})`),
    ]);
  if (input.holdsServices && code === 0)
    return fact('workspace-root', 0.8, [ev(dir, 'holds services or libraries below it')]);

  const byContent = purposeByContent(input, counts);
  if (byContent) return byContent;
  // A static site's scripts are files it serves, not code it runs.
  if (input.owner?.type === 'static')
    return fact('assets', 0.75, [ev(dir, `served as-is by the static site ${input.owner.name}`)]);
  if (input.owner) {
    return fact('module', code ? 0.85 : 0.6, [
      ev(
        dir,
        `${code ? 'code' : 'a folder'} inside the ${input.owner.kind} ${input.owner.name} (${input.owner.folder})`,
      ),
    ]);
  }
  if (input.holdsServices) return fact('workspace-root', 0.7, [ev(dir, 'holds services or libraries below it')]);
  if (code) return fact('module', 0.6, [ev(dir, `${code} source file(s), in no service or library`)]);
  return fact('module', 0.3, [ev(dir, 'nothing here says more')]);
}

interface Counts {
  code: number;
  tests: number;
  generated: number;
  docs: number;
  assets: number;
  data: number;
  scripts: number;
  config: number;
  api: number;
  infra: number;
  manifests: number;
  total: number;
}

function countKinds(files: readonly string[]): Counts {
  const c: Counts = {
    code: 0,
    tests: 0,
    generated: 0,
    docs: 0,
    assets: 0,
    data: 0,
    scripts: 0,
    config: 0,
    api: 0,
    infra: 0,
    manifests: 0,
    total: 0,
  };
  for (const f of files) {
    if (f.startsWith('.') && !f.startsWith('.env')) continue; // .gitignore, .dockerignore, .DS_Store say nothing
    c.total++;
    if (MANIFEST.test(f)) c.manifests++;
    if (CODE.test(f)) {
      c.code++;
      if (TEST_FILE.test(f)) c.tests++;
      if (GENERATED_FILE.test(f)) c.generated++;
    } else if (GENERATED_FILE.test(f)) c.generated++;
    else if (DOC_FILE.test(f)) c.docs++;
    else if (ASSET_FILE.test(f)) c.assets++;
    else if (DATA_FILE.test(f)) c.data++;
    else if (SCRIPT_FILE.test(f)) c.scripts++;
    else if (API_FILE.test(f)) c.api++;
    else if (INFRA_FILE.test(f)) c.infra++;
    else if (CONFIG_FILE.test(f)) c.config++;
  }
  return c;
}

function purposeByContent(input: PurposeInput, c: Counts): Fact<FolderPurpose> | undefined {
  const { dir, files } = input;
  const first = (re: RegExp) => at(dir, files.find((f) => re.test(f)) ?? '.');
  if (c.tests > 0 && c.tests * 2 >= c.code) {
    return fact('tests', 0.85, [ev(first(TEST_FILE), `${c.tests} of ${c.code} source files are tests`)]);
  }
  if (c.infra > 0 && c.code === 0)
    return fact('infrastructure', 0.9, [ev(first(INFRA_FILE), 'Terraform, Helm or Kustomize files')]);
  if (c.api > 0 && c.api >= c.code)
    return fact('api-definitions', 0.9, [ev(first(API_FILE), `${c.api} interface definition file(s)`)]);
  const yamls = files.filter((f) => /\.ya?ml$/i.test(f));
  if (c.code === 0 && yamls.length) {
    const k8s = yamls.filter((f) => isKubernetesYaml(input.read(at(dir, f))));
    if (k8s.length * 2 >= yamls.length && k8s.length) {
      return fact('infrastructure', 0.85, [
        ev(at(dir, k8s[0]), `${k8s.length} Kubernetes manifest(s) (apiVersion and kind)`),
      ]);
    }
    const openapi = yamls.find((f) => isOpenApi(input.read(at(dir, f))));
    if (openapi) return fact('api-definitions', 0.85, [ev(at(dir, openapi), 'an OpenAPI document')]);
  }
  if (c.code > 0 || c.manifests > 0) return undefined;
  const kinds: [number, FolderPurpose, RegExp, string][] = [
    [c.docs, 'docs', DOC_FILE, 'documents'],
    [c.assets, 'assets', ASSET_FILE, 'static files'],
    [c.data, 'data', DATA_FILE, 'data files'],
    [c.scripts, 'scripts', SCRIPT_FILE, 'shell scripts'],
    [c.config, 'config', CONFIG_FILE, 'configuration files'],
  ];
  kinds.sort((a, b) => b[0] - a[0]);
  const [n, purpose, re, what] = kinds[0];
  if (n === 0) return undefined;
  // Inside a service a lone README does not make a folder documentation.
  if (purpose === 'docs' && input.owner && n === 1 && c.total > 1) return undefined;
  return fact(purpose, n === c.total ? 0.8 : 0.65, [ev(first(re), `${n} of ${c.total} files are ${what}`)]);
}
