// Java: Spring / JAX-RS route annotations (with class-level prefixes), System.getenv, a few embedded-server ports.
// One rule per fact, over a scope built once per file.
import type { Node } from 'web-tree-sitter';
import { type Arg, brokerFamilies, brokerUses, mayBeBrokerCall } from './broker-calls';
import { GRPC_HEALTH } from './code-facts';
import { brief, FactSink, joinRoute, lineOf, mergePort, portFromDigits, validPort, type PortValue } from './fact-sink';

const mappingVerbs: Record<string, string | undefined> = {
  GetMapping: 'GET',
  PostMapping: 'POST',
  PutMapping: 'PUT',
  DeleteMapping: 'DELETE',
  PatchMapping: 'PATCH',
  RequestMapping: undefined,
};

function javaString(node: Node | null | undefined): string | undefined {
  if (node?.type !== 'string_literal' || node.text.startsWith('"""')) return undefined;
  return node.text.slice(1, -1);
}

function intValue(node: Node | null | undefined): number | undefined {
  return node?.type === 'decimal_integer_literal'
    ? validPort(Number(node.text.replace(/_/g, '').replace(/[lL]$/, '')))
    : undefined;
}

function annotationName(a: Node): string {
  return (a.childForFieldName('name')?.text ?? '').replace(/^.*\./, '');
}

/** The paths of `@GetMapping("/x")`, `@GetMapping(value = "/x")`, `@RequestMapping(path = {"/x", "/y"})`, `@Path("/x")`. */
function annotationPath(a: Node): { path?: string; paths: string[]; method?: string } {
  const out: { path?: string; paths: string[]; method?: string } = { paths: [] };
  const list = a.childForFieldName('arguments');
  if (!list) return out;
  const take = (value: Node | null): void => {
    const items = value?.type === 'element_value_array_initializer' ? value.namedChildren : value ? [value] : [];
    for (const item of items) {
      const s = javaString(item);
      if (s !== undefined) out.paths.push(s);
    }
    out.path ??= out.paths[0];
  };
  for (const arg of list.namedChildren) {
    if (arg.type === 'string_literal' || arg.type === 'element_value_array_initializer') take(arg);
    else if (arg.type === 'element_value_pair') {
      const key = arg.childForFieldName('key')?.text;
      const value = arg.childForFieldName('value');
      if (key === 'value' || key === 'path') {
        take(value);
      } else if (key === 'method') {
        out.method = /RequestMethod\.(\w+)/.exec(value?.text ?? '')?.[1];
      }
    }
  }
  return out;
}

function annotationsOf(declaration: Node): Node[] {
  const modifiers = declaration.namedChildren.find((c) => c.type === 'modifiers');
  return modifiers?.namedChildren.filter((c) => c.type === 'annotation' || c.type === 'marker_annotation') ?? [];
}

function classPrefix(method: Node): string {
  let n: Node | null = method.parent;
  while (n && n.type !== 'class_declaration' && n.type !== 'interface_declaration') n = n.parent;
  if (!n) return '';
  for (const a of annotationsOf(n)) {
    const name = annotationName(a);
    if (name === 'RequestMapping' || name === 'Path') return annotationPath(a).path ?? '';
  }
  return '';
}

/** `System.getenv(x)` / `System.getenv().getOrDefault(x, d)`: the key and fallback nodes. */
function envAccess(call: Node): { key?: Node; fallback?: Node } | undefined {
  const object = call.childForFieldName('object')?.text;
  const name = call.childForFieldName('name')?.text;
  const list = call.childForFieldName('arguments')?.namedChildren ?? [];
  if (object === 'System' && name === 'getenv' && list.length === 1) return { key: list[0] };
  if (name === 'getOrDefault' && object === 'System.getenv()') return { key: list[0], fallback: list[1] };
  return undefined;
}

// Generated grpc-java code: `class X extends FooGrpc.FooImplBase` serves Foo; `FooGrpc.newBlockingStub(ch)` calls it.
const implBase = /(?:^|\.)(\w+)Grpc\.(\w+)ImplBase$/;
const stubFactory = /^new(?:Blocking|Future)?Stub$/;

type EnvWrappers = Map<string, { key: number; fallback?: number }>;

/** What every rule of one file reads: its nodes, local bindings, env wrappers, broker families. */
interface JavaScope {
  sink: FactSink;
  nodes: Node[];
  bindings: Map<string, Node>;
  /** Methods this file defines around System.getenv(parameter): `getenv("NAME", "default")` reads NAME. */
  envWrappers: EnvWrappers;
  families: ReturnType<typeof brokerFamilies>;
}

export function readJava(root: Node, sink: FactSink, source: string): void {
  const scope = javaScope(root, sink, source);
  for (const node of scope.nodes) {
    switch (node.type) {
      case 'class_declaration':
        grpcServerClassRule(scope, node);
        break;
      case 'method_declaration':
        listenerAnnotationRule(scope, node);
        routeAnnotationRule(scope, node);
        break;
      case 'method_invocation':
        readInvocation(scope, node);
        break;
      case 'object_creation_expression':
        socketAddressRule(scope, node);
        break;
      case 'string_literal':
        urlRule(scope, node);
        break;
      case 'import_declaration':
        importRule(scope, node);
        break;
    }
  }
}

function javaScope(root: Node, sink: FactSink, source: string): JavaScope {
  const types = [
    'method_declaration',
    'method_invocation',
    'object_creation_expression',
    'import_declaration',
    'variable_declarator',
  ];
  if (source.includes('://')) types.push('string_literal');
  if (source.includes('ImplBase')) types.push('class_declaration');
  const nodes = root.descendantsOfType(types);
  const bindings = new Map<string, Node>();
  const envWrappers: EnvWrappers = new Map();
  for (const node of nodes) {
    if (node.type === 'variable_declarator') {
      const name = node.childForFieldName('name')?.text;
      const value = node.childForFieldName('value');
      if (name && value && !bindings.has(name)) bindings.set(name, value);
      continue;
    }
    if (node.type !== 'method_declaration') continue;
    const name = node.childForFieldName('name')?.text;
    const body = node.childForFieldName('body');
    const params = (node.childForFieldName('parameters')?.namedChildren ?? [])
      .filter((p) => p.type === 'formal_parameter')
      .map((p) => p.childForFieldName('name')?.text ?? '');
    if (!name || !body || params.length === 0 || envWrappers.has(name)) continue;
    for (const call of body.descendantsOfType('method_invocation')) {
      const key = params.indexOf(envAccess(call)?.key?.text ?? '\u0000');
      if (key < 0) continue;
      const used = new Set(body.descendantsOfType('identifier').map((i) => i.text));
      const fallback = params.findIndex((p, i) => i !== key && used.has(p));
      envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
      break;
    }
  }
  const families = brokerFamilies(
    nodes
      .filter((n) => n.type === 'import_declaration')
      .map((n) => n.namedChildren.find((c) => c.type === 'scoped_identifier' || c.type === 'identifier')?.text ?? '')
      .map((module) => ({ module })),
  );
  return { sink, nodes, bindings, envWrappers, families };
}

// ───────────────────────────── values of expressions ─────────────────────────────

function stringOf(scope: JavaScope, node: Node | null | undefined, depth = 0): string | undefined {
  if (!node || depth > 3) return undefined;
  const s = javaString(node);
  if (s !== undefined || node.type !== 'identifier') return s;
  return stringOf(scope, scope.bindings.get(node.text), depth + 1);
}

/** A port: 9555, "9555", Integer.parseInt(System.getenv().getOrDefault("PORT", "9555")), a local holding one. */
function evalPort(scope: JavaScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  if (node.type === 'decimal_integer_literal') return { port: intValue(node) };
  if (node.type === 'string_literal') return { port: portFromDigits(javaString(node) ?? '') };
  if (node.type === 'identifier') return evalPort(scope, scope.bindings.get(node.text), depth + 1);
  if (node.type !== 'method_invocation') return undefined;
  const env = envAccess(node);
  const key = env ? javaString(env.key) : undefined;
  if (key) return mergePort({ envVar: key }, evalPort(scope, env?.fallback, depth + 1));
  const fn = `${node.childForFieldName('object')?.text ?? ''}.${node.childForFieldName('name')?.text ?? ''}`;
  const list = node.childForFieldName('arguments')?.namedChildren ?? [];
  return /^(?:Integer\.parseInt|Integer\.valueOf)$/.test(fn) ? evalPort(scope, list[0], depth + 1) : undefined;
}

/** The environment variables an address expression is built from. */
function envVarsOf(scope: JavaScope, node: Node | null | undefined, out = new Set<string>(), depth = 0): Set<string> {
  if (!node || depth > 5) return out;
  if (node.type === 'identifier') return envVarsOf(scope, scope.bindings.get(node.text), out, depth + 1);
  if (node.type === 'binary_expression') {
    envVarsOf(scope, node.childForFieldName('left'), out, depth + 1);
    envVarsOf(scope, node.childForFieldName('right'), out, depth + 1);
  } else if (node.type === 'method_invocation') {
    const env = envAccess(node);
    const wrapper = scope.envWrappers.get(node.childForFieldName('name')?.text ?? '');
    const list = node.childForFieldName('arguments')?.namedChildren ?? [];
    const key = env ? javaString(env.key) : wrapper ? javaString(list[wrapper.key]) : undefined;
    if (key) out.add(key);
    else if (/^(?:format|valueOf|parseInt)$/.test(node.childForFieldName('name')?.text ?? '')) {
      for (const a of list) envVarsOf(scope, a, out, depth + 1);
    }
  }
  return out;
}

function annotationValue(scope: JavaScope, value: Node | null): Arg {
  if (value?.type === 'element_value_array_initializer') {
    return value.namedChildren.map((c) => stringOf(scope, c)).filter((x): x is string => x !== undefined);
  }
  return stringOf(scope, value);
}

// ───────────────────────────── rules, one per fact ─────────────────────────────

/** gRPC served by a class: `class AdService extends AdServiceGrpc.AdServiceImplBase`. */
function grpcServerClassRule({ sink }: JavaScope, node: Node): void {
  const base = node.childForFieldName('superclass')?.namedChild(0)?.text.replace(/\s+/g, '') ?? '';
  const m = implBase.exec(base);
  if (m && m[1] === m[2])
    sink.grpc(m[1] === 'Health' ? GRPC_HEALTH : m[1], 'server', lineOf(node), `extends ${brief(base, 60)}`);
}

/** Broker listeners: `@KafkaListener(topics = "orders")`, `@RabbitListener(queues = "mail")`. */
function listenerAnnotationRule(scope: JavaScope, method: Node): void {
  for (const a of annotationsOf(method)) {
    const name = annotationName(a);
    if (name !== 'KafkaListener' && name !== 'RabbitListener') continue;
    const kw: Record<string, Arg> = {};
    const args: Arg[] = [];
    for (const arg of a.childForFieldName('arguments')?.namedChildren ?? []) {
      if (arg.type !== 'element_value_pair') args.push(annotationValue(scope, arg));
      else kw[arg.childForFieldName('key')?.text ?? ''] = annotationValue(scope, arg.childForFieldName('value'));
    }
    for (const use of brokerUses({ lang: 'java', method: name, args, kw, ctor: true }, new Set())) {
      scope.sink.topic(use.system, use.name, use.role, lineOf(a), `@${name} receives from ${use.name}`);
    }
  }
}

/** Routes: Spring's @GetMapping/@RequestMapping and JAX-RS @Path with @GET, under the class's prefix. */
function routeAnnotationRule({ sink }: JavaScope, method: Node): void {
  let jaxVerb: string | undefined;
  let jaxPath: string | undefined;
  for (const a of annotationsOf(method)) {
    const name = annotationName(a);
    if (name in mappingVerbs) {
      const { paths, method: verb } = annotationPath(a);
      for (const path of paths.length ? paths : [''])
        sink.route(joinRoute(classPrefix(method), path), a, mappingVerbs[name] ?? verb);
    } else if (name === 'Path') jaxPath = annotationPath(a).path ?? '';
    else if (/^(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)$/.test(name)) jaxVerb = name;
  }
  if (jaxVerb && jaxPath !== undefined) sink.route(joinRoute(classPrefix(method), jaxPath), lineOf(method), jaxVerb);
  else if (jaxVerb) sink.route(joinRoute(classPrefix(method), ''), lineOf(method), jaxVerb);
}

/** A method invocation being read. */
interface Invocation {
  call: Node;
  object: string | undefined;
  name: string | undefined;
  list: Node[];
  line: number;
}

/** An invocation: the first of the claiming rules, else a broker use, an env read or a listen port. */
function readInvocation(scope: JavaScope, call: Node): void {
  const site: Invocation = {
    call,
    object: call.childForFieldName('object')?.text,
    name: call.childForFieldName('name')?.text,
    list: call.childForFieldName('arguments')?.namedChildren ?? [],
    line: lineOf(call),
  };
  if (envWrapperCallRule(scope, site) || grpcInvocationRule(scope, site) || dialRule(scope, site)) return;
  if (grpcPortRule(scope, site)) return;
  brokerRule(scope, site);
  if (!envReadRule(scope, site)) listenPortRule(scope, site);
}

/** A call of the file's own env wrapper reads the variable it names. */
function envWrapperCallRule({ sink, envWrappers }: JavaScope, { object, name, list, line }: Invocation): boolean {
  const wrapper = object === 'System' ? undefined : envWrappers.get(name ?? '');
  const wrapped = wrapper ? javaString(list[wrapper.key]) : undefined;
  if (!wrapper || wrapped === undefined || !/^[A-Z][A-Z0-9_]*$/.test(wrapped)) return false;
  sink.env(wrapped, line, wrapper.fallback !== undefined ? javaString(list[wrapper.fallback]) : undefined, name);
  return true;
}

/** gRPC: `FooGrpc.newBlockingStub(ch)` calls Foo; a health service added to the server serves grpc.health.v1. */
function grpcInvocationRule({ sink }: JavaScope, { call, object, name, list, line }: Invocation): boolean {
  const grpcOwner = /^(\w+)Grpc$/.exec(object?.replace(/^.*\./, '') ?? '')?.[1];
  if (grpcOwner && stubFactory.test(name ?? '')) {
    sink.grpc(grpcOwner, 'client', line, `${brief(object ?? '', 40)}.${name}(…)`);
    return true;
  }
  const healthImpl = name === 'addService' && /HealthStatusManager|HealthServiceImpl/.test(list[0]?.text ?? '');
  if (name === 'getHealthService' || healthImpl) {
    sink.grpc(GRPC_HEALTH, 'server', line, brief(call.text, 60));
    return true;
  }
  return false;
}

/** Dialled addresses: ManagedChannelBuilder.forTarget(addr) / forAddress(host, port). */
function dialRule(scope: JavaScope, { object, name, list, line }: Invocation): boolean {
  if (object !== 'ManagedChannelBuilder' || (name !== 'forTarget' && name !== 'forAddress')) return false;
  const shown = `ManagedChannelBuilder.${name}(${brief(list.map((a) => a.text).join(', '), 40)})`;
  scope.sink.dial(
    list.flatMap((a) => [...envVarsOf(scope, a)]),
    line,
    shown,
  );
  return true;
}

/** grpc-java: ServerBuilder.forPort(port). */
function grpcPortRule(scope: JavaScope, { object, name, list, line }: Invocation): boolean {
  if (name !== 'forPort' || list.length !== 1) return false;
  scope.sink.port(evalPort(scope, list[0]), line, `${object ?? ''}.forPort(${brief(list[0].text, 40)})`);
  return true;
}

/** Broker topics and queues a call sends to or receives from. */
function brokerRule(scope: JavaScope, { object, name, list, line }: Invocation): void {
  if (!scope.families.size || !name || !mayBeBrokerCall(name)) return;
  const shown = brief(`${object ?? ''}.${name}`, 30);
  const view = { lang: 'java' as const, method: name, args: list.map((a) => stringOf(scope, a)), kw: {} };
  for (const use of brokerUses(view, scope.families)) {
    const verb = use.role === 'produce' ? 'sends to' : 'receives from';
    scope.sink.topic(use.system, use.name, use.role, line, `${shown}(…) ${verb} ${use.name}`);
  }
}

/** Env reads: System.getenv("X"), System.getenv().getOrDefault("X", "d"). */
function envReadRule({ sink }: JavaScope, { object, name, list, line }: Invocation): boolean {
  if (object === 'System' && name === 'getenv') {
    const env = javaString(list[0]);
    if (env) sink.env(env, line);
    return true;
  }
  if (name === 'getOrDefault' && object === 'System.getenv()') {
    const env = javaString(list[0]);
    if (env) sink.env(env, line, javaString(list[1]));
    return true;
  }
  return false;
}

/** Listen ports set by a call: setPort(8080), Spark's static port(4567), Javalin's start(7000). */
function listenPortRule({ sink }: JavaScope, { call, object, name, list, line }: Invocation): void {
  if (name === 'setPort' && list.length === 1) {
    sink.port({ port: intValue(list[0]) }, line, brief(call.text, 60));
  } else if (name === 'port' && !object && list.length === 1) {
    sink.port({ port: intValue(list[0]) }, line, `port(${list[0].text}) (Spark)`); // Spark's static port(4567)
  } else if (name === 'start' && list.length === 1 && /\bJavalin\b/.test(object ?? '')) {
    sink.port({ port: intValue(list[0]) }, line, `Javalin start(${list[0].text})`);
  }
}

/** HttpServer.create(new InetSocketAddress(8000), 0) / new InetSocketAddress("0.0.0.0", 8080). */
function socketAddressRule({ sink }: JavaScope, node: Node): void {
  if (node.childForFieldName('type')?.text !== 'InetSocketAddress') return;
  const list = node.childForFieldName('arguments')?.namedChildren ?? [];
  sink.port({ port: intValue(list[list.length - 1]) }, lineOf(node), brief(node.text, 60));
}

function urlRule({ sink }: JavaScope, node: Node): void {
  const s = javaString(node);
  if (s !== undefined) sink.url(s, lineOf(node));
}

function importRule({ sink }: JavaScope, node: Node): void {
  const name = node.namedChildren.find((c) => c.type === 'scoped_identifier' || c.type === 'identifier');
  if (name) sink.import(name.text, lineOf(node));
}
