// Java: Spring / JAX-RS route annotations (with class-level prefixes), System.getenv, a few embedded-server ports.
import type { Node } from 'web-tree-sitter';
import { type Arg, brokerFamilies, brokerUses, mayBeBrokerCall } from './broker-calls';
import { GRPC_HEALTH } from './code-facts';
import { brief, FactSink, joinRoute, lineOf, mergePort, portFromDigits, validPort, type PortValue } from './fact-sink';

const mappingVerbs: Record<string, string | undefined> = {
  GetMapping: 'GET', PostMapping: 'POST', PutMapping: 'PUT', DeleteMapping: 'DELETE', PatchMapping: 'PATCH',
  RequestMapping: undefined,
};

function javaString(node: Node | null | undefined): string | undefined {
  if (node?.type !== 'string_literal' || node.text.startsWith('"""')) return undefined;
  return node.text.slice(1, -1);
}

function intValue(node: Node | null | undefined): number | undefined {
  return node?.type === 'decimal_integer_literal' ? validPort(Number(node.text.replace(/_/g, '').replace(/[lL]$/, ''))) : undefined;
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

export function readJava(root: Node, sink: FactSink, source: string): void {
  const types = ['method_declaration', 'method_invocation', 'object_creation_expression', 'import_declaration',
    'variable_declarator'];
  if (source.includes('://')) types.push('string_literal');
  if (source.includes('ImplBase')) types.push('class_declaration');
  const nodes = root.descendantsOfType(types);
  const bindings = new Map<string, Node>();
  // Methods this file defines around System.getenv(parameter): `getenv("NAME", "default")` reads NAME.
  const envWrappers = new Map<string, { key: number; fallback?: number }>();
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
  const families = brokerFamilies(nodes.filter((n) => n.type === 'import_declaration')
    .map((n) => n.namedChildren.find((c) => c.type === 'scoped_identifier' || c.type === 'identifier')?.text ?? '')
    .map((module) => ({ module })));

  const stringOf = (node: Node | null | undefined, depth = 0): string | undefined => {
    if (!node || depth > 3) return undefined;
    const s = javaString(node);
    if (s !== undefined || node.type !== 'identifier') return s;
    return stringOf(bindings.get(node.text), depth + 1);
  };

  // A port: 9555, "9555", Integer.parseInt(System.getenv().getOrDefault("PORT", "9555")), a local holding one.
  const evalPort = (node: Node | null | undefined, depth = 0): PortValue | undefined => {
    if (!node || depth > 4) return undefined;
    if (node.type === 'decimal_integer_literal') return { port: intValue(node) };
    if (node.type === 'string_literal') return { port: portFromDigits(javaString(node) ?? '') };
    if (node.type === 'identifier') return evalPort(bindings.get(node.text), depth + 1);
    if (node.type !== 'method_invocation') return undefined;
    const env = envAccess(node);
    const key = env ? javaString(env.key) : undefined;
    if (key) return mergePort({ envVar: key }, evalPort(env?.fallback, depth + 1));
    const fn = `${node.childForFieldName('object')?.text ?? ''}.${node.childForFieldName('name')?.text ?? ''}`;
    const list = node.childForFieldName('arguments')?.namedChildren ?? [];
    return /^(?:Integer\.parseInt|Integer\.valueOf)$/.test(fn) ? evalPort(list[0], depth + 1) : undefined;
  };

  /** The environment variables an address expression is built from. */
  const envVarsOf = (node: Node | null | undefined, out = new Set<string>(), depth = 0): Set<string> => {
    if (!node || depth > 5) return out;
    if (node.type === 'identifier') return envVarsOf(bindings.get(node.text), out, depth + 1);
    if (node.type === 'binary_expression') {
      envVarsOf(node.childForFieldName('left'), out, depth + 1);
      envVarsOf(node.childForFieldName('right'), out, depth + 1);
    } else if (node.type === 'method_invocation') {
      const env = envAccess(node);
      const wrapper = envWrappers.get(node.childForFieldName('name')?.text ?? '');
      const list = node.childForFieldName('arguments')?.namedChildren ?? [];
      const key = env ? javaString(env.key) : wrapper ? javaString(list[wrapper.key]) : undefined;
      if (key) out.add(key);
      else if (/^(?:format|valueOf|parseInt)$/.test(node.childForFieldName('name')?.text ?? '')) {
        for (const a of list) envVarsOf(a, out, depth + 1);
      }
    }
    return out;
  };

  for (const node of nodes) {
    switch (node.type) {
      case 'class_declaration': {
        const base = node.childForFieldName('superclass')?.namedChild(0)?.text.replace(/\s+/g, '') ?? '';
        const m = implBase.exec(base);
        if (m && m[1] === m[2]) {
          sink.grpc(m[1] === 'Health' ? GRPC_HEALTH : m[1], 'server', lineOf(node), `extends ${brief(base, 60)}`);
        }
        break;
      }
      case 'method_declaration': readHandler(node); break;
      case 'method_invocation': readInvocation(node); break;
      case 'object_creation_expression': {
        // HttpServer.create(new InetSocketAddress(8000), 0) / new InetSocketAddress("0.0.0.0", 8080)
        if (node.childForFieldName('type')?.text !== 'InetSocketAddress') break;
        const list = node.childForFieldName('arguments')?.namedChildren ?? [];
        sink.port({ port: intValue(list[list.length - 1]) }, lineOf(node), brief(node.text, 60));
        break;
      }
      case 'string_literal': {
        const s = javaString(node);
        if (s !== undefined) sink.url(s, lineOf(node));
        break;
      }
      case 'import_declaration': {
        const name = node.namedChildren.find((c) => c.type === 'scoped_identifier' || c.type === 'identifier');
        if (name) sink.import(name.text, lineOf(node));
        break;
      }
    }
  }

  function readHandler(method: Node): void {
    const annotations = annotationsOf(method);
    for (const a of annotations) {
      const name = annotationName(a);
      if (name !== 'KafkaListener' && name !== 'RabbitListener') continue;
      const kw: Record<string, Arg> = {};
      const args: Arg[] = [];
      for (const arg of a.childForFieldName('arguments')?.namedChildren ?? []) {
        if (arg.type !== 'element_value_pair') args.push(annotationValue(arg));
        else kw[arg.childForFieldName('key')?.text ?? ''] = annotationValue(arg.childForFieldName('value'));
      }
      for (const use of brokerUses({ lang: 'java', method: name, args, kw, ctor: true }, new Set())) {
        sink.topic(use.system, use.name, use.role, lineOf(a), `@${name} receives from ${use.name}`);
      }
    }
    let jaxVerb: string | undefined;
    let jaxPath: string | undefined;
    for (const a of annotations) {
      const name = annotationName(a);
      if (name in mappingVerbs) {
        const { paths, method: verb } = annotationPath(a);
        for (const path of paths.length ? paths : ['']) sink.route(joinRoute(classPrefix(method), path), a, mappingVerbs[name] ?? verb);
      } else if (name === 'Path') jaxPath = annotationPath(a).path ?? '';
      else if (/^(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)$/.test(name)) jaxVerb = name;
    }
    if (jaxVerb && jaxPath !== undefined) sink.route(joinRoute(classPrefix(method), jaxPath), lineOf(method), jaxVerb);
    else if (jaxVerb) sink.route(joinRoute(classPrefix(method), ''), lineOf(method), jaxVerb);
  }

  function annotationValue(value: Node | null): Arg {
    if (value?.type === 'element_value_array_initializer') {
      return value.namedChildren.map((c) => stringOf(c)).filter((x): x is string => x !== undefined);
    }
    return stringOf(value);
  }

  function readInvocation(call: Node): void {
    const object = call.childForFieldName('object')?.text;
    const name = call.childForFieldName('name')?.text;
    const list = call.childForFieldName('arguments')?.namedChildren ?? [];
    const line = lineOf(call);
    const wrapper = object === 'System' ? undefined : envWrappers.get(name ?? '');
    const wrapped = wrapper ? javaString(list[wrapper.key]) : undefined;
    if (wrapper && wrapped !== undefined && /^[A-Z][A-Z0-9_]*$/.test(wrapped)) {
      sink.env(wrapped, line, wrapper.fallback !== undefined ? javaString(list[wrapper.fallback]) : undefined, name);
      return;
    }
    const grpcOwner = /^(\w+)Grpc$/.exec(object?.replace(/^.*\./, '') ?? '')?.[1];
    if (grpcOwner && stubFactory.test(name ?? '')) {
      sink.grpc(grpcOwner, 'client', line, `${brief(object ?? '', 40)}.${name}(…)`);
      return;
    }
    const healthImpl = name === 'addService' && /HealthStatusManager|HealthServiceImpl/.test(list[0]?.text ?? '');
    if (name === 'getHealthService' || healthImpl) {
      sink.grpc(GRPC_HEALTH, 'server', line, brief(call.text, 60));
      return;
    }
    if (object === 'ManagedChannelBuilder' && (name === 'forTarget' || name === 'forAddress')) {
      const shown = `ManagedChannelBuilder.${name}(${brief(list.map((a) => a.text).join(', '), 40)})`;
      sink.dial(list.flatMap((a) => [...envVarsOf(a)]), line, shown);
      return;
    }
    if (name === 'forPort' && list.length === 1) {
      // grpc-java: ServerBuilder.forPort(port)
      sink.port(evalPort(list[0]), line, `${object ?? ''}.forPort(${brief(list[0].text, 40)})`);
      return;
    }
    if (families.size && name && mayBeBrokerCall(name)) {
      const shown = brief(`${object ?? ''}.${name}`, 30);
      const view = { lang: 'java' as const, method: name, args: list.map((a) => stringOf(a)), kw: {} };
      for (const use of brokerUses(view, families)) {
        const verb = use.role === 'produce' ? 'sends to' : 'receives from';
        sink.topic(use.system, use.name, use.role, line, `${shown}(…) ${verb} ${use.name}`);
      }
    }
    if (object === 'System' && name === 'getenv') {
      const env = javaString(list[0]);
      if (env) sink.env(env, line);
    } else if (name === 'getOrDefault' && object === 'System.getenv()') {
      const env = javaString(list[0]);
      if (env) sink.env(env, line, javaString(list[1]));
    } else if (name === 'setPort' && list.length === 1) {
      sink.port({ port: intValue(list[0]) }, line, brief(call.text, 60));
    } else if (name === 'port' && !object && list.length === 1) {
      sink.port({ port: intValue(list[0]) }, line, `port(${list[0].text}) (Spark)`); // Spark's static port(4567)
    } else if (name === 'start' && list.length === 1 && /\bJavalin\b/.test(object ?? '')) {
      sink.port({ port: intValue(list[0]) }, line, `Javalin start(${list[0].text})`);
    }
  }
}
