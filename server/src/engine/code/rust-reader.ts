// Rust: actix/axum/warp/tokio listen addresses, env::var with unwrap_or fallbacks, route definitions, `use` crates.
// One rule per fact, over a scope built once per file.
import type { Node } from 'web-tree-sitter';
import { GRPC_HEALTH } from './code-facts';
import {
  brief,
  FactSink,
  type At,
  isOwnPortVar,
  lineOf,
  mergePort,
  portFromAddress,
  portFromDigits,
  validPort,
  type PortValue,
} from './fact-sink';

const listenMethods = new Set(['bind', 'bind_rustls', 'bind_rustls_0_23', 'bind_openssl', 'run', 'listen', 'serve']);
const routeAttributes = /^(?:get|post|put|delete|patch|head|options|route)$/;
// Calls that pass a value through: "8080".to_string(), x.parse::<u16>(), .unwrap(), .expect("..")
const passThrough = new Set([
  'to_string',
  'to_owned',
  'into',
  'parse',
  'unwrap',
  'expect',
  'ok',
  'unwrap_or_default',
  'to_socket_addrs',
  'as_str',
]);
const fallbackMethods = new Set(['unwrap_or', 'unwrap_or_else', 'or', 'or_else', 'map_or']);

function rustString(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'string_literal') return node.text.slice(1, -1);
  if (node.type === 'raw_string_literal') return node.text.replace(/^r#*"|"#*$/g, '');
  return undefined;
}

function argList(call: Node): Node[] {
  return (
    call
      .childForFieldName('arguments')
      ?.namedChildren.filter((a) => a.type !== 'line_comment' && a.type !== 'block_comment') ?? []
  );
}

function isEnvCall(node: Node): boolean {
  return (
    node.type === 'call_expression' &&
    /(?:^|::)(?:env::var|env::var_os|dotenv::var|dotenvy::var)$/.test(node.childForFieldName('function')?.text ?? '')
  );
}

function envCall(node: Node): string | undefined {
  return isEnvCall(node) ? rustString(argList(node)[0]) : undefined;
}

// tonic: `CartServiceClient::connect(addr)` calls CartService, `CartServiceServer::new(svc)` serves it.
const tonicType = /(?:^|::)(\w+?)(Client|Server)::(connect|new|with_interceptor)$/;

/** Whether a SocketAddr's host is 0.0.0.0 / [::] (given as an array, a tuple's first item or Ipv4Addr::UNSPECIFIED). */
function unspecifiedHost(list: Node[]): boolean {
  const host = list.length === 1 && list[0].type === 'tuple_expression' ? list[0].namedChild(0) : list[0];
  if (!host) return false;
  const t = host.text.replace(/\s+/g, '');
  return t === '[0,0,0,0]' || t === '[0;4]' || /UNSPECIFIED/.test(t) || /^"(?:0\.0\.0\.0|::)"\.parse/.test(t);
}

/** What every rule of one file reads: its nodes, let/const bindings, env wrappers, whether tonic is used. */
interface RustScope {
  sink: FactSink;
  nodes: Node[];
  bindings: Map<string, Node>;
  /** Functions this file defines around env::var(parameter): `env_or("NAME", "default")` reads NAME. */
  envWrappers: Map<string, { key: number; fallback?: number }>;
  usesTonic: boolean;
}

export function readRust(root: Node, sink: FactSink, source: string): void {
  const scope = rustScope(root, sink, source);
  for (const node of scope.nodes) {
    switch (node.type) {
      case 'call_expression':
        readCall(scope, node);
        break;
      case 'string_literal':
      case 'raw_string_literal':
        urlRule(scope, node);
        break;
      case 'attribute_item':
        routeAttributeRule(scope, node);
        break;
      case 'use_declaration':
      case 'extern_crate_declaration':
        importRule(scope, node);
        break;
      case 'macro_invocation':
        envMacroRule(scope, node);
        break;
    }
  }
}

function rustScope(root: Node, sink: FactSink, source: string): RustScope {
  const types = [
    'call_expression',
    'attribute_item',
    'use_declaration',
    'extern_crate_declaration',
    'macro_invocation',
    'let_declaration',
    'const_item',
    'static_item',
  ];
  if (source.includes('://')) types.push('string_literal', 'raw_string_literal');
  if (source.includes('var(')) types.push('function_item');
  const nodes = root.descendantsOfType(types);
  const envWrappers: RustScope['envWrappers'] = new Map();
  for (const fn of nodes) {
    if (fn.type !== 'function_item') continue;
    const name = fn.childForFieldName('name')?.text;
    const params = (fn.childForFieldName('parameters')?.namedChildren ?? [])
      .filter((p) => p.type === 'parameter')
      .map((p) => p.childForFieldName('pattern')?.text ?? '');
    const body = fn.childForFieldName('body');
    if (!name || !body || params.length === 0) continue;
    const read = body
      .descendantsOfType('call_expression')
      .find((c) => isEnvCall(c) && params.includes(argList(c)[0]?.text ?? ''));
    if (!read) continue;
    const key = params.indexOf(argList(read)[0].text);
    const used = new Set(body.descendantsOfType('identifier').map((i) => i.text));
    const fallback = params.findIndex((p, i) => i !== key && used.has(p));
    envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
  }
  const bindings = new Map<string, Node>();
  for (const d of nodes) {
    if (d.type !== 'let_declaration' && d.type !== 'const_item' && d.type !== 'static_item') continue;
    const name = d.childForFieldName('pattern') ?? d.childForFieldName('name');
    const value = d.childForFieldName('value');
    if (name?.type === 'identifier' && value && !bindings.has(name.text)) bindings.set(name.text, value);
  }
  return { sink, nodes, bindings, envWrappers, usesTonic: source.includes('tonic') };
}

// ───────────────────────────── values of expressions ─────────────────────────────

type Evaluator = (scope: RustScope, n: Node, d: number) => PortValue | undefined;

/** A port number: 8080, "8080", env::var("PORT").unwrap_or("8080".into()), a binding of those. */
function evalPort(scope: RustScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 6) return undefined;
  switch (node.type) {
    case 'integer_literal':
      return { port: validPort(Number(node.text.replace(/_/g, '').replace(/[iu](?:8|16|32|64|128|size)$/, ''))) };
    case 'string_literal':
    case 'raw_string_literal':
      return { port: portFromDigits(rustString(node)!) };
    case 'identifier': {
      const b = scope.bindings.get(node.text);
      return b ? evalPort(scope, b, depth + 1) : undefined;
    }
    case 'parenthesized_expression':
    case 'reference_expression':
    case 'try_expression':
    case 'await_expression':
      return evalPort(scope, node.namedChildren[node.namedChildren.length - 1], depth + 1);
    case 'closure_expression':
      return evalPort(scope, node.childForFieldName('body'), depth + 1);
    case 'block':
      return evalPort(scope, node.namedChildren[node.namedChildren.length - 1], depth + 1);
    case 'call_expression':
      return evalCall(scope, node, depth, evalPort);
    default:
      return undefined;
  }
}

/** A socket address: "0.0.0.0:8080", ("0.0.0.0", 8080), ([0, 0, 0, 0], 3000), SocketAddr::from(..), format!(..). */
function evalAddress(scope: RustScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 6) return undefined;
  switch (node.type) {
    case 'string_literal':
    case 'raw_string_literal':
      return { port: portFromAddress(rustString(node)!) };
    case 'identifier': {
      const b = scope.bindings.get(node.text);
      return b ? evalAddress(scope, b, depth + 1) : undefined;
    }
    case 'parenthesized_expression':
    case 'reference_expression':
    case 'try_expression':
    case 'await_expression':
      return evalAddress(scope, node.namedChildren[node.namedChildren.length - 1], depth + 1);
    case 'tuple_expression': {
      const items = node.namedChildren;
      if (
        items.length !== 2 ||
        !/^(?:string_literal|array_expression|identifier|scoped_identifier|call_expression|field_expression)$/.test(
          items[0].type,
        )
      )
        return undefined;
      return evalPort(scope, items[1], depth + 1);
    }
    case 'macro_invocation':
      return evalFormat(scope, node, depth);
    case 'call_expression': {
      const fn = node.childForFieldName('function');
      const text = fn?.text ?? '';
      const list = argList(node);
      if (/(?:SocketAddr|SocketAddrV4|SocketAddrV6)::(?:from|new)$/.test(text)) {
        return list.length === 1 ? evalAddress(scope, list[0], depth + 1) : evalPort(scope, list[1], depth + 1);
      }
      return evalCall(scope, node, depth, evalAddress);
    }
    default:
      return undefined;
  }
}

/** format!("0.0.0.0:{}", port) / format!("0.0.0.0:{port}") / format!("{}:{}", host, port). */
function evalFormat(scope: RustScope, node: Node, depth: number): PortValue | undefined {
  if (!/^(?:std::)?format$/.test(node.childForFieldName('macro')?.text ?? '')) return undefined;
  const tokens = node.namedChildren.find((c) => c.type === 'token_tree')?.namedChildren ?? [];
  const format = rustString(tokens[0]);
  if (format === undefined) return undefined;
  const named = /:\{(\w+)\}$/.exec(format);
  if (named) {
    const b = scope.bindings.get(named[1]);
    return b ? evalPort(scope, b, depth + 1) : undefined;
  }
  if (!/:\{\}$/.test(format)) return undefined;
  const idents = tokens.slice(1).filter((t) => t.type === 'identifier' || t.type === 'integer_literal');
  return evalPort(scope, idents[idents.length - 1], depth + 1);
}

function evalCall(scope: RustScope, node: Node, depth: number, by: Evaluator): PortValue | undefined {
  const env = envCall(node);
  if (env) return { envVar: env };
  const fn = node.childForFieldName('function');
  if (fn?.type === 'field_expression') {
    const method = fn.childForFieldName('field')?.text ?? '';
    const receiver = fn.childForFieldName('value');
    if (passThrough.has(method)) return by(scope, receiver!, depth + 1);
    if (fallbackMethods.has(method)) {
      const fallbackArgs = argList(node);
      const last = fallbackArgs[fallbackArgs.length - 1];
      return mergePort(by(scope, receiver!, depth + 1), by(scope, last, depth + 1) ?? evalPort(scope, last, depth + 1));
    }
    return undefined;
  }
  if (/^String::from$/.test(fn?.text ?? '')) return by(scope, argList(node)[0], depth + 1);
  return undefined;
}

function reasonFor(scope: RustScope, site: string, arg: Node | undefined): string {
  let a = arg;
  while (a && a.type === 'reference_expression') a = a.namedChildren[a.namedChildren.length - 1];
  if (a?.type !== 'identifier') return site;
  const b = scope.bindings.get(a.text);
  return b ? `${site}, ${a.text} = ${brief(b.text, 50)}` : site;
}

// ───────────────────────────── rules, one per fact ─────────────────────────────

/** A call being read: its function node, the method's last name, and its arguments. */
interface CallSite {
  call: Node;
  fn: Node;
  method: string;
  list: Node[];
  line: At;
}

/** A call: an env read, a wrapper's call, gRPC, then the first of listen ports and routes that claims it. */
function readCall(scope: RustScope, call: Node): void {
  const line: At = call.childForFieldName('function')?.childForFieldName('field') ?? call;
  const env = envCall(call);
  if (env) {
    envReadRule(scope, call, env);
    return;
  }
  const fn = call.childForFieldName('function');
  if (!fn) return;
  if (envWrapperCallRule(scope, call, fn) || grpcRule(scope, fn, line)) return;
  const method =
    fn.type === 'field_expression'
      ? (fn.childForFieldName('field')?.text ?? '')
      : fn.type === 'scoped_identifier'
        ? (fn.childForFieldName('name')?.text ?? '')
        : '';
  const site: CallSite = { call, fn, method, list: argList(call), line };
  if (listenPortRule(scope, site) || routeCallRule(scope, site) || socketAddressRule(scope, site)) return;
  warpPathRule(scope, site);
}

/** Env reads: env::var("PORT").unwrap_or("8080".into()) / .unwrap_or_else(|_| "8080".to_string()). */
function envReadRule({ sink }: RustScope, call: Node, name: string): void {
  let defaultValue: string | undefined;
  let n: Node = call;
  for (let i = 0; i < 4 && n.parent?.type === 'field_expression' && n.parent.parent?.type === 'call_expression'; i++) {
    const outer = n.parent.parent;
    const method = n.parent.childForFieldName('field')?.text ?? '';
    if (fallbackMethods.has(method)) {
      const fallback = argList(outer)[argList(outer).length - 1];
      const literal = fallback?.descendantsOfType(['string_literal', 'integer_literal'])[0];
      defaultValue = literal ? (rustString(literal) ?? literal.text) : undefined;
      break;
    }
    n = outer;
  }
  sink.env(name, lineOf(call), defaultValue);
  if (isOwnPortVar(name) && defaultValue !== undefined) {
    sink.port(
      { port: portFromDigits(defaultValue), envVar: name },
      lineOf(call),
      brief(n.parent?.parent?.text ?? call.text, 80),
      true,
    );
  }
}

/** A call of the file's own env wrapper reads the variable it names. */
function envWrapperCallRule({ sink, envWrappers }: RustScope, call: Node, fn: Node): boolean {
  const wrapper = fn.type === 'identifier' ? envWrappers.get(fn.text) : undefined;
  const wrapped = wrapper ? rustString(argList(call)[wrapper.key]) : undefined;
  if (!wrapper || wrapped === undefined || !/^[A-Z][A-Z0-9_]*$/.test(wrapped)) return false;
  const fallback = wrapper.fallback !== undefined ? rustString(argList(call)[wrapper.fallback]) : undefined;
  sink.env(wrapped, lineOf(call), fallback, fn.text);
  return true;
}

/** gRPC with tonic: `FooClient::connect` calls Foo, `FooServer::new` serves it; tonic_health serves the health. */
function grpcRule({ sink, usesTonic }: RustScope, fn: Node, line: At): boolean {
  // Only with tonic in the file: actix's HttpServer::new is no gRPC server.
  const tonic = usesTonic ? tonicType.exec(fn.text) : null;
  if (tonic && !(tonic[2] === 'Server' && tonic[3] === 'connect')) {
    const served = tonic[2] === 'Server';
    const service = served && tonic[1] === 'Health' ? GRPC_HEALTH : tonic[1];
    sink.grpc(service, served ? 'server' : 'client', line, brief(fn.text, 60));
    return true;
  }
  if (/(?:^|::)health_reporter$/.test(fn.text)) {
    sink.grpc(GRPC_HEALTH, 'server', line, brief(fn.text, 60)); // tonic_health serves grpc.health.v1.Health
    return true;
  }
  return false;
}

/** Listen ports: .bind(addr), TcpListener::bind(addr), .run(addr), serve(addr). */
function listenPortRule(scope: RustScope, { fn, method, list, line }: CallSite): boolean {
  if (!listenMethods.has(method) || list.length < 1) return false;
  const shown = fn.type === 'scoped_identifier' ? fn.text : `.${method}`;
  scope.sink.port(
    evalAddress(scope, list[0]),
    line,
    reasonFor(scope, `${brief(shown, 40)}(${brief(list[0].text, 40)})`, list[0]),
  );
  return true;
}

/** Routes by call: axum .route("/health", get(handler)), actix .route(...) / .resource(...). */
function routeCallRule({ sink }: RustScope, { method, list, line }: CallSite): boolean {
  if ((method !== 'route' && method !== 'resource') || list.length < 1) return false;
  const path = rustString(list[0]);
  if (path === undefined) return true;
  const handler = list[1]?.type === 'call_expression' ? (list[1].childForFieldName('function')?.text ?? '') : '';
  const verb =
    /(?:^|::)(get|post|put|delete|patch|head|options)$/.exec(handler.replace(/\(\)$/, ''))?.[1] ??
    /(?:^|::)(get|post|put|delete|patch|head|options)\(\)/.exec(list[1]?.text ?? '')?.[1];
  sink.route(path, line, verb);
  return true;
}

/** SocketAddr::from(([0, 0, 0, 0], 3000)) binds every interface: only a server builds that address. */
function socketAddressRule(scope: RustScope, { call, fn, list, line }: CallSite): boolean {
  if (!/(?:^|::)SocketAddr(?:V4)?::(?:from|new)$/.test(fn.text) || !unspecifiedHost(list)) return false;
  scope.sink.port(evalAddress(scope, call), line, brief(call.text, 60));
  return true;
}

/** warp::path("health"). */
function warpPathRule({ sink }: RustScope, { fn, list, line }: CallSite): void {
  if (!/(?:^|::)warp::path$/.test(fn.text) || list.length !== 1) return;
  const segment = rustString(list[0]);
  if (segment) sink.route(`/${segment.replace(/^\/+/, '')}`, line);
}

/** Routes by attribute: actix/rocket #[get("/health")], #[route("/x", method = "GET")]. */
function routeAttributeRule({ sink }: RustScope, node: Node): void {
  const attr = node.namedChildren.find((c) => c.type === 'attribute');
  const name = attr?.namedChild(0)?.text ?? '';
  const bare = name.replace(/^(?:actix_web|rocket)::/, '');
  if (!routeAttributes.test(bare)) return;
  const tokens = attr?.childForFieldName('arguments')?.namedChildren ?? [];
  const path = rustString(tokens[0]);
  if (path === undefined) return;
  let verb: string | undefined = bare === 'route' ? undefined : bare;
  if (!verb) verb = /method\s*=\s*"(\w+)"/.exec(attr?.text ?? '')?.[1];
  sink.route(path.replace(/\?.*$/, ''), lineOf(node), verb);
}

/** env!("X") / option_env!("X"): compile-time reads, still configuration the service expects. */
function envMacroRule({ sink }: RustScope, node: Node): void {
  if (!/^(?:env|option_env)$/.test(node.childForFieldName('macro')?.text ?? '')) return;
  const name = rustString(node.namedChildren.find((c) => c.type === 'token_tree')?.namedChildren[0]);
  if (name) sink.env(name, lineOf(node));
}

function urlRule({ sink }: RustScope, node: Node): void {
  const s = rustString(node)!;
  if (s.includes('://')) sink.url(s, node);
}

/** Crates: `use axum::...`, `extern crate rocket`. */
function importRule({ sink }: RustScope, node: Node): void {
  if (node.type === 'extern_crate_declaration') {
    const name = node.childForFieldName('name');
    if (name) sink.import(name.text, lineOf(node));
    return;
  }
  const arg = node.childForFieldName('argument');
  const crate = arg?.text.split(/::|\{/)[0].trim().replace(/^::/, '');
  if (crate && !/^(?:crate|self|super)$/.test(crate)) sink.import(crate.split(/\s/)[0], lineOf(node));
}
