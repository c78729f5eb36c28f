// Python: flask/uvicorn/aiohttp/waitress/http.server listen sites, os.environ reads, decorator and django routes,
// gRPC services, dialled addresses and broker queues. One rule per fact, over a scope built once per file.
import type { Node } from 'web-tree-sitter';
import { type Arg, brokerFamilies, brokerUses, mayBeBrokerCall } from './broker-calls';
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

const runMethods = new Set(['run', 'run_app', 'run_server', 'serve', 'run_simple', 'listen']);
const serverClasses = /^(?:HTTPServer|ThreadingHTTPServer|TCPServer|ThreadingTCPServer|WSGIServer|make_server)$/;
const routeMethods = new Set([
  'route',
  'get',
  'post',
  'put',
  'delete',
  'patch',
  'head',
  'options',
  'api_route',
  'websocket',
]);
const envGetters = /^(?:os\.environ\.get|os\.getenv|environ\.get|getenv|os\.environ\.setdefault)$/;

/** The value of a plain (non-f) string literal, without prefix and quotes. */
export function pythonString(node: Node | null | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  const text = node.text;
  return /^[rRbBuU]*[fF]/.test(text) ? undefined : stringBody(text); // an f-string has no single value
}

function stringBody(text: string): string | undefined {
  const m = /^[rRbBuUfF]{0,2}("""|'''|"|')([\s\S]*)\1$/.exec(text);
  return m?.[2];
}

function argList(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
}

function keyword(call: Node, name: string): Node | undefined {
  for (const a of argList(call)) {
    if (a.type === 'keyword_argument' && a.childForFieldName('name')?.text === name)
      return a.childForFieldName('value') ?? undefined;
  }
  return undefined;
}

function positional(call: Node): Node[] {
  return argList(call).filter(
    (a) => a.type !== 'keyword_argument' && a.type !== 'list_splat' && a.type !== 'dictionary_splat',
  );
}

function literal(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'integer' || node.type === 'float') return node.text;
  return pythonString(node);
}

/** Names bound to `os.environ` in a file (`env = os.environ`, then `env.get("X")`), beside the usual ones. */
type EnvAliases = ReadonlySet<string>;

/**
 * `os.environ.get("X", d)` / `os.getenv("X")` / `os.environ["X"]` → { name, default node, the key node }. With
 * `anyKey`, a key that is not a literal is accepted too (name ''): how a wrapper's own read is recognised.
 */
function envAccess(
  node: Node,
  aliases: EnvAliases,
  anyKey = false,
): { name: string; key?: Node; fallback?: Node } | undefined {
  if (node.type === 'call') {
    const fnNode = node.childForFieldName('function');
    const fn = fnNode?.text ?? '';
    const aliased =
      fnNode?.type === 'attribute' &&
      fnNode.childForFieldName('attribute')?.text === 'get' &&
      aliases.has(fnNode.childForFieldName('object')?.text ?? '');
    if (!envGetters.test(fn) && !aliased) return undefined;
    const [first, second] = positional(node);
    const name = pythonString(first) ?? (anyKey && first ? '' : undefined);
    return name !== undefined ? { name, key: first, fallback: second ?? keyword(node, 'default') } : undefined;
  }
  if (node.type === 'subscript') {
    const value = node.childForFieldName('value')?.text ?? '';
    if (value !== 'os.environ' && value !== 'environ' && !aliases.has(value)) return undefined;
    const key = node.childForFieldName('subscript') ?? undefined;
    const name = pythonString(key) ?? (anyKey && key ? '' : undefined);
    return name !== undefined ? { name, key } : undefined;
  }
  return undefined;
}

// Generated gRPC code: `add_CartServiceServicer_to_server(...)` serves, `demo_pb2_grpc.CartServiceStub(ch)` calls.
const servicerAdder = /^add_(\w+)Servicer_to_server$/;
const stubClass = /^(\w+)Stub$/;
const channelMakers = /^(?:grpc\.)?(?:aio\.)?(?:insecure_channel|secure_channel)$/;
// HTTP clients whose first argument (or base_url) is the address of another service.
const httpCalls = /^(?:requests|httpx|session|client|aiohttp)\.(?:get|post|put|patch|delete|head|request)$/;
const httpClients = /^(?:httpx\.(?:Async)?Client|aiohttp\.ClientSession)$/;
// The last name of every call above: only these calls are worth their full text.
const clientMethods = new Set([
  'insecure_channel',
  'secure_channel',
  'get',
  'post',
  'put',
  'patch',
  'delete',
  'head',
  'request',
  'Client',
  'AsyncClient',
  'ClientSession',
]);

type EnvWrappers = Map<string, { key: number; fallback?: number }>;

/** What every rule of one file reads: its nodes, module-level bindings, os.environ aliases, env wrappers, brokers. */
interface PythonScope {
  sink: FactSink;
  nodes: Node[];
  bindings: Map<string, Node>;
  aliases: EnvAliases;
  envWrappers: EnvWrappers;
  families: ReturnType<typeof brokerFamilies>;
}

/** A call being read: its function node, the last name of it, and where its facts are placed. */
interface CallSite {
  call: Node;
  fn: Node;
  name: string;
  line: At;
}

export function readPython(root: Node, sink: FactSink, source: string): void {
  const scope = pythonScope(root, sink, source);
  for (const node of scope.nodes) {
    switch (node.type) {
      case 'call':
        readCall(scope, node);
        break;
      case 'subscript':
        envReadRule(scope, node);
        break;
      case 'string':
        urlRule(scope, node);
        break;
      case 'decorator':
        celeryTaskRule(scope, node);
        decoratorRouteRule(scope, node);
        break;
      case 'import_statement':
      case 'import_from_statement':
        importRule(scope, node);
        break;
      case 'assignment':
        gunicornBindRule(scope, node);
        break;
    }
  }
}

function pythonScope(root: Node, sink: FactSink, source: string): PythonScope {
  const types = ['call', 'decorator', 'import_statement', 'import_from_statement', 'assignment'];
  if (source.includes('environ')) types.push('subscript');
  if (source.includes('://')) types.push('string');
  const nodes = root.descendantsOfType(types);
  const bindings = new Map<string, Node>();
  const aliases = new Set<string>();
  for (const a of nodes) {
    if (a.type !== 'assignment') continue;
    const left = a.childForFieldName('left');
    const right = a.childForFieldName('right');
    if (left?.type === 'identifier' && right && !bindings.has(left.text)) bindings.set(left.text, right);
    if (left?.type === 'identifier' && /^(?:os\.)?environ$/.test(right?.text ?? '')) aliases.add(left.text);
  }
  const families = brokerFamilies(
    nodes.flatMap((n) => {
      if (n.type === 'import_from_statement') return [{ module: n.childForFieldName('module_name')?.text ?? '' }];
      if (n.type === 'import_statement') {
        return n.childrenForFieldName('name').map((m) => ({ module: m.text.split(/\s/)[0] }));
      }
      return [];
    }),
  );
  return { sink, nodes, bindings, aliases, envWrappers: envWrappersOf(nodes, aliases, source), families };
}

/**
 * Functions and methods this file defines around an env read of a parameter (`def env(name, default=None):
 * return os.environ.get(name, default)`): their calls with a literal name read that variable.
 * Found from each env read of a name up to its function, so a large file is not walked once per function.
 */
function envWrappersOf(nodes: Node[], aliases: EnvAliases, source: string): EnvWrappers {
  const envWrappers: EnvWrappers = new Map();
  // Only a read whose key is a name, not a literal, can be a wrapper's.
  const keyedByName = aliases.size > 0 || /(?:environ(?:\.get)?|getenv)\s*[[(]\s*[A-Za-z_]/.test(source);
  for (const access of keyedByName ? nodes : []) {
    if (access.type !== 'call' && access.type !== 'subscript') continue;
    const env = envAccess(access, aliases, true);
    if (env?.key?.type !== 'identifier') continue;
    let fn: Node | null = access.parent;
    for (let i = 0; fn && i < 32 && fn.type !== 'function_definition'; i++) fn = fn.parent;
    const name = fn?.type === 'function_definition' ? fn.childForFieldName('name')?.text : undefined;
    const body = fn?.childForFieldName('body');
    const params = (fn?.childForFieldName('parameters')?.namedChildren ?? [])
      .map((p) => (p.type === 'identifier' ? p : p.childForFieldName('name'))?.text ?? '')
      .filter((p, i) => !(i === 0 && (p === 'self' || p === 'cls')));
    const key = params.indexOf(env.key.text);
    if (!name || !body || key < 0 || envWrappers.has(name)) continue;
    const used = new Set(body.descendantsOfType('identifier').map((i) => i.text));
    const fallback = params.findIndex((p, i) => i !== key && used.has(p));
    envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
  }
  return envWrappers;
}

// ───────────────────────────── values of expressions ─────────────────────────────

/** A string a node stands for: a literal, or a module-level name bound to one (`ORDERS_TOPIC = 'orders'`). */
function stringOf(scope: PythonScope, node: Node | null | undefined, depth = 0): string | undefined {
  if (!node || depth > 3) return undefined;
  const s = pythonString(node);
  if (s !== undefined || node.type !== 'identifier') return s;
  return stringOf(scope, scope.bindings.get(node.text), depth + 1);
}

function argValue(scope: PythonScope, node: Node | null | undefined): Arg {
  if (!node) return undefined;
  const s = stringOf(scope, node);
  if (s !== undefined) return s;
  if (node.type === 'list' || node.type === 'tuple') {
    return node.namedChildren.map((c) => stringOf(scope, c)).filter((x): x is string => x !== undefined);
  }
  if (node.type === 'identifier') {
    const bound = scope.bindings.get(node.text);
    return bound && bound.type !== 'identifier' ? argValue(scope, bound) : undefined;
  }
  return undefined;
}

/** The environment variables an address expression is built from: f"{host}:{port}", a name, a call. */
function envVarsOf(scope: PythonScope, node: Node | null | undefined, out = new Set<string>(), depth = 0): Set<string> {
  if (!node || depth > 5) return out;
  const env = node.type === 'call' || node.type === 'subscript' ? envAccess(node, scope.aliases) : undefined;
  if (env) {
    out.add(env.name);
    return out;
  }
  switch (node.type) {
    case 'identifier':
      envVarsOf(scope, scope.bindings.get(node.text), out, depth + 1);
      break;
    case 'string':
      for (const i of node.namedChildren) {
        if (i.type === 'interpolation') envVarsOf(scope, i.childForFieldName('expression'), out, depth + 1);
      }
      break;
    case 'binary_operator':
    case 'boolean_operator':
      envVarsOf(scope, node.childForFieldName('left'), out, depth + 1);
      envVarsOf(scope, node.childForFieldName('right'), out, depth + 1);
      break;
    case 'parenthesized_expression':
      envVarsOf(scope, node.namedChild(0), out, depth + 1);
      break;
    case 'call': {
      const fn = node.childForFieldName('function');
      const name = fn?.type === 'attribute' ? (fn.childForFieldName('attribute')?.text ?? '') : (fn?.text ?? '');
      const wrapper = scope.envWrappers.get(name);
      const key = wrapper ? pythonString(positional(node)[wrapper.key]) : undefined;
      if (key) out.add(key);
      else if (/^(?:str|format)$/.test(name)) for (const a of argList(node)) envVarsOf(scope, a, out, depth + 1);
      break;
    }
  }
  return out;
}

function evalPort(scope: PythonScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  switch (node.type) {
    case 'integer':
      return { port: validPort(Number(node.text)) };
    case 'string': {
      const s = pythonString(node);
      return s === undefined ? undefined : { port: portFromDigits(s) };
    }
    case 'parenthesized_expression':
      return evalPort(scope, node.namedChild(0), depth + 1);
    case 'boolean_operator':
      return node.childForFieldName('operator')?.text === 'or'
        ? mergePort(
            evalPort(scope, node.childForFieldName('left'), depth + 1),
            evalPort(scope, node.childForFieldName('right'), depth + 1),
          )
        : undefined;
    case 'identifier': {
      const b = scope.bindings.get(node.text);
      return b ? evalPort(scope, b, depth + 1) : undefined;
    }
    case 'call':
    case 'subscript': {
      const env = envAccess(node, scope.aliases);
      if (env) return { envVar: env.name, port: evalPort(scope, env.fallback, depth + 1)?.port };
      if (node.type === 'call' && /^(?:int|str)$/.test(node.childForFieldName('function')?.text ?? '')) {
        return evalPort(scope, positional(node)[0], depth + 1);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A listen address: "[::]:50051", "[::]:" + port, f"0.0.0.0:{port}", a name bound to one of those. */
function evalAddress(scope: PythonScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  if (node.type === 'identifier') return evalAddress(scope, scope.bindings.get(node.text), depth + 1);
  if (node.type === 'binary_operator') {
    const left = pythonString(node.childForFieldName('left'));
    return left !== undefined && /:$/.test(left)
      ? evalPort(scope, node.childForFieldName('right'), depth + 1)
      : undefined;
  }
  if (node.type !== 'string') return undefined;
  const plain = pythonString(node);
  if (plain !== undefined) return { port: portFromAddress(plain) };
  const parts = node.namedChildren.filter((c) => c.type === 'string_content' || c.type === 'interpolation');
  const last = parts[parts.length - 1];
  const before = parts[parts.length - 2];
  if (last?.type !== 'interpolation' || before?.type !== 'string_content') return undefined;
  if (!before.text.endsWith(':')) return undefined;
  return evalPort(scope, last.childForFieldName('expression'), depth + 1);
}

function reasonFor(scope: PythonScope, site: string, arg: Node | undefined): string {
  if (arg?.type !== 'identifier') return site;
  const b = scope.bindings.get(arg.text);
  return b ? `${site}, ${arg.text} = ${brief(b.text, 50)}` : site;
}

// ───────────────────────────── rules, one per fact ─────────────────────────────

/** A call: its env read and host, then the first rule that claims it (the order is the rules' priority). */
function readCall(scope: PythonScope, call: Node): void {
  envReadRule(scope, call);
  hostRule(scope, call);
  const fn = call.childForFieldName('function');
  if (!fn) return;
  const name = fn.type === 'attribute' ? (fn.childForFieldName('attribute')?.text ?? '') : fn.text;
  const line: At = fn.type === 'attribute' ? (fn.childForFieldName('attribute') ?? call) : call;
  const site: CallSite = { call, fn, name, line };
  if (envWrapperCallRule(scope, site) || grpcRule(scope, site)) return;
  if (clientMethods.has(name)) {
    if (dialRule(scope, site)) return;
  } else brokerRule(scope, site);
  if (listenPortRule(scope, site)) return;
  routeCallRule(scope, site);
}

/** Env reads: `os.environ.get("X", d)`, `os.getenv("X")`, `os.environ["X"]`; PORT with a default is a weak port. */
function envReadRule({ sink, aliases }: PythonScope, node: Node): void {
  const env = envAccess(node, aliases);
  if (!env) return;
  let top = node;
  // int(os.environ.get("PORT", 5000)) or os.environ.get("PORT") or "8000"
  if (
    top.parent?.type === 'argument_list' &&
    top.parent.parent?.type === 'call' &&
    /^(?:int|str)$/.test(top.parent.parent.childForFieldName('function')?.text ?? '')
  )
    top = top.parent.parent;
  let fallback = env.fallback;
  const parent = top.parent;
  if (
    !fallback &&
    parent?.type === 'boolean_operator' &&
    parent.childForFieldName('operator')?.text === 'or' &&
    parent.childForFieldName('left')?.equals(top)
  )
    fallback = parent.childForFieldName('right') ?? undefined;
  const defaultValue = literal(fallback);
  sink.env(env.name, lineOf(node), defaultValue);
  if (isOwnPortVar(env.name) && defaultValue !== undefined) {
    sink.port({ port: portFromDigits(defaultValue), envVar: env.name }, lineOf(node), brief(node.text, 80), true);
  }
}

/** Hosts: redis.Redis(host="cache") / psycopg2.connect(host=os.environ.get("DB_HOST", "db")). */
function hostRule({ sink, aliases }: PythonScope, call: Node): void {
  const hostArg = keyword(call, 'host') ?? keyword(call, 'hostname');
  if (!hostArg) return;
  const env = envAccess(hostArg, aliases);
  const value = env ? pythonString(env.fallback) : pythonString(hostArg);
  if (value !== undefined) sink.host(value, hostArg);
}

/** Env reads through a wrapper the file defines: `env("CART_SERVICE_ADDR", "cart:7070")`. */
function envWrapperCallRule({ sink, envWrappers }: PythonScope, { call, name }: CallSite): boolean {
  const wrapper = envWrappers.get(name);
  if (!wrapper) return false;
  const pos = positional(call);
  const key = pythonString(pos[wrapper.key]);
  if (key === undefined || !/^[A-Z][A-Z0-9_]*$/.test(key)) return false;
  const fallback = wrapper.fallback !== undefined ? literal(pos[wrapper.fallback]) : undefined;
  sink.env(key, lineOf(call), fallback, name);
  return true;
}

/** gRPC: a servicer added to a server serves its service; a generated stub calls it. */
function grpcRule({ sink }: PythonScope, { fn, name, line }: CallSite): boolean {
  const served = servicerAdder.exec(name)?.[1];
  if (served) {
    sink.grpc(served === 'Health' ? GRPC_HEALTH : served, 'server', line, brief(fn.text, 60));
    return true;
  }
  const stub = stubClass.exec(name)?.[1];
  if (stub && (fn.type !== 'attribute' || /pb2_grpc$/.test(fn.childForFieldName('object')?.text ?? ''))) {
    sink.grpc(stub, 'client', line, brief(fn.text, 60));
    return true;
  }
  return false;
}

/** Dialled addresses: gRPC channels and HTTP clients, with the env vars their target is built from. */
function dialRule(scope: PythonScope, { call, fn, line }: CallSite): boolean {
  const text = fn.text;
  const channel = channelMakers.test(text);
  const client = httpClients.test(text);
  if (!channel && !client && !httpCalls.test(text)) return false;
  const target = client ? keyword(call, 'base_url') : (positional(call)[0] ?? keyword(call, 'url'));
  if (target) scope.sink.dial(envVarsOf(scope, target), line, `${brief(text, 30)}(${brief(target.text, 40)})`);
  return channel;
}

/** Broker queues, topics and channels a call sends to or receives from. */
function brokerRule(scope: PythonScope, { call, fn, name, line }: CallSite): void {
  if (!scope.families.size || !mayBeBrokerCall(name)) return;
  const kw: Record<string, Arg> = {};
  for (const a of argList(call)) {
    if (a.type !== 'keyword_argument') continue;
    kw[a.childForFieldName('name')?.text ?? ''] = argValue(scope, a.childForFieldName('value'));
  }
  const ctor = fn.type === 'identifier' || /^[A-Z]/.test(name);
  const view = {
    lang: 'python' as const,
    method: name,
    args: positional(call).map((a) => argValue(scope, a)),
    kw,
    ctor,
  };
  for (const use of brokerUses(view, scope.families)) {
    const verb = use.role === 'produce' ? 'sends to' : 'receives from';
    scope.sink.topic(use.system, use.name, use.role, line, `${brief(fn.text, 30)}(…) ${verb} ${use.name}`);
  }
}

/** Listen ports: app.run(port=…), tornado listen, werkzeug run_simple, grpc add_insecure_port, HTTPServer. */
function listenPortRule(scope: PythonScope, { call, fn, name, line }: CallSite): boolean {
  const { sink } = scope;
  if (runMethods.has(name)) {
    const kw = keyword(call, 'port');
    if (kw) {
      sink.port(evalPort(scope, kw), line, reasonFor(scope, `${brief(fn.text, 30)}(port=${brief(kw.text, 40)})`, kw));
      return true;
    }
    const pos = positional(call);
    const arg = name === 'listen' ? pos[0] : name === 'run_simple' ? pos[1] : undefined; // tornado / werkzeug
    if (arg)
      sink.port(evalPort(scope, arg), line, reasonFor(scope, `${brief(fn.text, 30)}(${brief(arg.text, 40)})`, arg));
    return true;
  }
  if (name === 'add_insecure_port' || name === 'add_secure_port') {
    // grpc: server.add_insecure_port("[::]:" + port) / f"[::]:{port}"
    const addr = positional(call)[0];
    if (addr) {
      const reason = reasonFor(scope, `${brief(fn.text, 30)}(${brief(addr.text, 40)})`, addr);
      sink.port(evalAddress(scope, addr), line, reason);
    }
    return true;
  }
  if (serverClasses.test(name)) {
    // HTTPServer(("", 8000), Handler) / make_server("", 8000, app)
    const [first, second] = positional(call);
    const portNode = first?.type === 'tuple' ? first.namedChildren[1] : name === 'make_server' ? second : undefined;
    if (portNode) {
      sink.port(evalPort(scope, portNode), line, reasonFor(scope, `${name}(${brief(first.text, 40)}, …)`, portNode));
    }
    return true;
  }
  return false;
}

/** Routes declared by a call: flask add_url_rule, starlette Route, django path/re_path/url. */
function routeCallRule({ sink }: PythonScope, { call, fn, name, line }: CallSite): void {
  if (name === 'add_url_rule' || (name === 'Route' && fn.type === 'identifier')) {
    // flask app.add_url_rule("/health", view_func=health) / starlette Route("/health", endpoint=health)
    const path = pythonString(positional(call)[0]) ?? pythonString(keyword(call, 'rule') ?? keyword(call, 'path'));
    const methods = keyword(call, 'methods');
    if (path !== undefined)
      sink.route(path, line, methods?.type === 'list' ? pythonString(methods.namedChildren[0]) : undefined);
    return;
  }
  if ((name === 'path' || name === 're_path' || name === 'url') && fn.type === 'identifier') {
    const pos = positional(call);
    const route = pythonString(pos[0]);
    if (route !== undefined && pos.length >= 2) {
      sink.route(`/${route.replace(/^\^/, '').replace(/\$$/, '').replace(/^\/+/, '')}`, line);
    }
  }
}

/** Routes declared by a decorator: `@app.get("/health")`, `@app.route("/", methods=["POST"])`. */
function decoratorRouteRule({ sink }: PythonScope, node: Node): void {
  const call = node.namedChild(0);
  if (call?.type !== 'call') return;
  const fn = call.childForFieldName('function');
  if (fn?.type !== 'attribute') return;
  const method = fn.childForFieldName('attribute')?.text ?? '';
  if (!routeMethods.has(method)) return;
  const path = pythonString(positional(call)[0]) ?? pythonString(keyword(call, 'path') ?? keyword(call, 'rule'));
  if (path === undefined) return;
  let verb: string | undefined = /^(?:route|api_route|websocket)$/.test(method) ? undefined : method;
  const methods = keyword(call, 'methods');
  if (!verb && methods?.type === 'list') verb = pythonString(methods.namedChildren[0]);
  sink.route(path, lineOf(node), verb);
}

/** Celery: `@app.task` / `@shared_task(name="x")` over a function makes it a task the worker runs. */
function celeryTaskRule({ sink, families }: PythonScope, node: Node): void {
  const call = node.namedChild(0);
  const target = call?.type === 'call' ? call.childForFieldName('function')?.text : call?.text;
  if (!target || !/^(?:\w+\.task|shared_task)$/.test(target) || !families.has('celery')) return;
  const fn = node.parent?.type === 'decorated_definition' ? node.parent.childForFieldName('definition') : null;
  const funcName = fn?.type === 'function_definition' ? fn.childForFieldName('name')?.text : undefined;
  if (!funcName) return;
  const explicit = call?.type === 'call' ? pythonString(keyword(call, 'name')) : undefined;
  const task = explicit ?? funcName;
  sink.topic('celery', task, 'consume', lineOf(node), `task ${task}`, explicit === undefined);
}

/** URL literals; f"http://{host}:8000" keeps its placeholders, since the host may still name a service. */
function urlRule({ sink }: PythonScope, node: Node): void {
  const text = node.text;
  const body = text.includes('://') ? stringBody(text) : undefined;
  if (body !== undefined) sink.url(body, node);
}

function importRule({ sink }: PythonScope, node: Node): void {
  if (node.type === 'import_from_statement') {
    const module = node.childForFieldName('module_name');
    if (module) sink.import(module.text, lineOf(node));
    return;
  }
  for (const name of node.childrenForFieldName('name')) {
    const module = name.type === 'aliased_import' ? name.childForFieldName('name') : name;
    if (module) sink.import(module.text, lineOf(node));
  }
}

/** gunicorn.conf.py: bind = "0.0.0.0:8000" at module level. */
function gunicornBindRule({ sink }: PythonScope, node: Node): void {
  if (node.parent?.parent?.type !== 'module' || node.childForFieldName('left')?.text !== 'bind') return;
  const value = pythonString(node.childForFieldName('right'));
  if (value !== undefined) sink.port({ port: portFromAddress(value) }, lineOf(node), `bind = "${brief(value, 40)}"`);
}
