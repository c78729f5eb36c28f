// JavaScript / TypeScript: express/koa/fastify/hono/nest listen sites, process.env reads (and through the file's
// own wrappers), routes, URLs, imports, gRPC, dialled addresses and broker queues. One rule per fact, over a scope
// built once per file.
import type { Node } from 'web-tree-sitter';
import { type Arg, brokerFamilies, brokerUses, mayBeBrokerCall } from './broker-calls';
import { GRPC_HEALTH } from './code-facts';
import {
  brief,
  FactSink,
  type At,
  isOwnPortVar,
  joinRoute,
  lineOf,
  mergePort,
  portFromAddress,
  portFromDigits,
  validPort,
  type PortValue,
} from './fact-sink';

const httpVerbs = new Set(['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'all']);
// Objects whose `.get('/x', ...)` is an HTTP client call, not a route definition.
const clientObjects = new Set([
  'axios',
  'http',
  'https',
  'request',
  'superagent',
  'got',
  'ky',
  'fetch',
  'api',
  'client',
  '$http',
  'httpClient',
  'agent',
  'supertest',
  'instance',
  'map',
  'cache',
  'store',
  'redis',
  'params',
  'headers',
  'searchParams',
]);
const nestVerbs = new Set(['Get', 'Post', 'Put', 'Delete', 'Patch', 'Head', 'Options', 'All']);
const wrappers = new Set([
  'parenthesized_expression',
  'as_expression',
  'non_null_expression',
  'satisfies_expression',
  'type_assertion',
]);
// normalizePort is express-generator's bin/www helper: it returns its argument as a number.
const numberCasts = new Set([
  'Number',
  'parseInt',
  'parseFloat',
  'String',
  'Number.parseInt',
  'Number.parseFloat',
  'normalizePort',
]);

/** A binding the reader can resolve: the value expression, or a port/env pair from destructuring `process.env`. */
type Binding = { node: Node } | { value: PortValue; text: string };

function unwrap(node: Node): Node {
  let n = node;
  while (wrappers.has(n.type) && n.namedChildCount > 0) n = n.namedChild(0)!;
  return n;
}

function stringValue(node: Node | null): string | undefined {
  if (!node) return undefined;
  if (node.type === 'string') return node.text.slice(1, -1);
  if (node.type === 'template_string') {
    const text = node.text;
    return text.includes('${') ? undefined : text.slice(1, -1);
  }
  return undefined;
}

function literalText(node: Node | null): string | undefined {
  if (!node) return undefined;
  const n = unwrap(node);
  if (n.type === 'number') return n.text;
  return stringValue(n);
}

/**
 * `process.env.X`, `process.env['X']`, `import.meta.env.X`, `Bun.env.X` → X; `process.env[NAME]` with NAME a constant
 * holding the name when `constant` resolves it.
 */
function envName(node: Node, constant?: (n: Node) => string | undefined): string | undefined {
  if (node.type !== 'member_expression' && node.type !== 'subscript_expression') return undefined;
  const object = node.childForFieldName('object');
  if (!object || !/^(?:process\.env|import\.meta\.env|Bun\.env)$/.test(object.text)) return undefined;
  if (node.type === 'member_expression') return node.childForFieldName('property')?.text;
  const index = node.childForFieldName('index');
  return stringValue(index) ?? (index?.type === 'identifier' ? constant?.(index) : undefined);
}

/** The parameter names of a function, arrow function or method, in order. */
function parameterNames(fn: Node): string[] {
  const single = fn.childForFieldName('parameter');
  if (single) return [single.text];
  return (fn.childForFieldName('parameters')?.namedChildren ?? [])
    .map((p) => (p.type === 'assignment_pattern' ? p.childForFieldName('left') : p))
    .map((p) => (p?.type === 'identifier' ? p.text : ''));
}

const functionTypes = /^(?:function_declaration|arrow_function|function_expression|method_definition)$/;
// HTTP clients whose first argument is the address of another service; `axios.create({ baseURL })` names it once.
const httpCallees = /^(?:fetch|axios|axios\.(?:get|post|put|patch|delete|head|request)|got|ky|superagent\.\w+)$/;
const httpMethods = new Set([
  'fetch',
  'axios',
  'got',
  'ky',
  'get',
  'post',
  'put',
  'patch',
  'delete',
  'head',
  'request',
]);

function args(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
}

function objectProperty(object: Node, key: string): Node | undefined {
  for (const child of object.namedChildren) {
    if (child.type === 'pair' && child.childForFieldName('key')?.text.replace(/^['"]|['"]$/g, '') === key) {
      return child.childForFieldName('value') ?? undefined;
    }
    if (child.type === 'shorthand_property_identifier' && child.text === key) return child;
  }
  return undefined;
}

const envPrefix = /^(?:process\.env|import\.meta\.env|Bun\.env)\b/;
const interestingCalls = new Set([
  'listen',
  'set',
  'serve',
  'createServer',
  'route',
  'require',
  'bindAsync',
  ...httpVerbs,
]);

/** What every rule of one file reads: its nodes, const bindings, env wrappers, and the broker libraries imported. */
interface JsScope {
  sink: FactSink;
  nodes: Node[];
  bindings: Map<string, Binding>;
  envWrappers: Map<string, { key: number; fallback?: number }>;
  /** Looked up on the first call that could be a broker call (most files have none). */
  families(): ReturnType<typeof brokerFamilies>;
  /** A string an expression stands for, for envName's computed keys. */
  constant(n: Node): string | undefined;
}

export function readJavaScript(root: Node, sink: FactSink, source: string): void {
  const scope = jsScope(root, sink, source);
  for (const node of scope.nodes) {
    switch (node.type) {
      case 'call_expression':
        readCall(scope, node);
        break;
      case 'new_expression':
        readNew(scope, node);
        break;
      case 'member_expression':
      case 'subscript_expression':
        if (envPrefix.test(node.text)) envReadRule(scope, node);
        break;
      case 'string':
      case 'template_string':
        urlRule(scope, node);
        break;
      case 'import_statement':
      case 'export_statement':
        importRule(scope, node);
        break;
      case 'decorator':
        nestRouteRule(scope, node);
        break;
      case 'pair':
        configPairRule(scope, node);
        break;
      case 'binary_expression':
        urlComparisonRule(scope, node);
        break;
    }
  }
}

function jsScope(root: Node, sink: FactSink, source: string): JsScope {
  // One tree traversal for everything; node kinds the text cannot contain are not even collected.
  const types = ['call_expression', 'variable_declarator', 'import_statement', 'export_statement'];
  if (source.includes('env')) types.push('member_expression', 'subscript_expression');
  if (source.includes('://')) types.push('string', 'template_string');
  if (/Server|credentials|Queue|Worker|Kafka/.test(source)) types.push('new_expression');
  if (source.includes('@')) types.push('decorator');
  if (source.includes('port') || source.includes('host')) types.push('pair');
  if (source.includes('.url') || source.includes('pathname')) types.push('binary_expression');
  const nodes = root.descendantsOfType(types);

  const bindings = new Map<string, Binding>();
  for (const d of nodes) {
    if (d.type !== 'variable_declarator') continue;
    const name = d.childForFieldName('name');
    const value = d.childForFieldName('value');
    if (!name || !value) continue;
    if (name.type === 'identifier') {
      if (!bindings.has(name.text)) bindings.set(name.text, { node: value });
    } else if (
      name.type === 'object_pattern' &&
      /^(?:process\.env|import\.meta\.env|Bun\.env)$/.test(unwrap(value).text)
    ) {
      readEnvPattern(name, bindings, sink);
    }
  }
  let imported: ReturnType<typeof brokerFamilies> | undefined;
  const scope: JsScope = {
    sink,
    nodes,
    bindings,
    envWrappers: envWrappersOf(nodes),
    families: () =>
      (imported ??= brokerFamilies(
        nodes.flatMap((n) => {
          if (n.type === 'import_statement') return [{ module: stringValue(n.childForFieldName('source')) ?? '' }];
          const fn = n.type === 'call_expression' ? n.childForFieldName('function') : null;
          return fn?.text === 'require' ? [{ module: stringValue(args(n)[0] ?? null) ?? '' }] : [];
        }),
      )),
    constant: (n) => stringOf(scope, n),
  };
  return scope;
}

/**
 * Functions this file defines around `process.env[name]` of a parameter (`function requiredEnv(name) {...}`,
 * `const env = (name, fallback) => process.env[name] ?? fallback`): their calls read the variable they name.
 * Found from each `process.env[identifier]` up to its function, so a large file is not walked once per function.
 */
function envWrappersOf(nodes: Node[]): JsScope['envWrappers'] {
  const envWrappers: JsScope['envWrappers'] = new Map();
  for (const access of nodes) {
    const index = access.type === 'subscript_expression' ? access.childForFieldName('index') : null;
    if (index?.type !== 'identifier' || !envPrefix.test(access.text)) continue;
    let fn: Node | null = access.parent;
    for (let i = 0; fn && i < 32 && !functionTypes.test(fn.type); i++) fn = fn.parent;
    if (!fn || !functionTypes.test(fn.type)) continue;
    const holder = fn.type === 'function_declaration' || fn.type === 'method_definition' ? fn : fn.parent;
    const named = holder?.type === 'variable_declarator' || holder === fn;
    const name = named ? holder.childForFieldName('name')?.text : undefined;
    const body = fn.childForFieldName('body');
    const params = parameterNames(fn);
    const key = params.indexOf(index.text);
    if (!name || !body || key < 0 || envWrappers.has(name)) continue;
    const used = new Set(body.descendantsOfType('identifier').map((i) => i.text));
    const fallback = params.findIndex((p, i) => i !== key && p !== '' && used.has(p));
    envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
  }
  return envWrappers;
}

// ───────────────────────────── values of expressions ─────────────────────────────

/** A string an expression stands for: a literal or a const holding one (`const TOPIC = 'orders'`). */
function stringOf(scope: JsScope, node: Node | null | undefined, depth = 0): string | undefined {
  if (!node || depth > 3) return undefined;
  const n = unwrap(node);
  const s = stringValue(n);
  if (s !== undefined || n.type !== 'identifier') return s;
  const b = scope.bindings.get(n.text);
  return b && 'node' in b ? stringOf(scope, b.node, depth + 1) : undefined;
}

function argValue(scope: JsScope, node: Node | null | undefined, depth = 0): Arg {
  if (!node) return undefined;
  const n = unwrap(node);
  const s = stringOf(scope, n);
  if (s !== undefined) return s;
  if (n.type === 'array')
    return n.namedChildren.map((c) => stringOf(scope, c)).filter((x): x is string => x !== undefined);
  if (n.type === 'object' && depth < 2) {
    const out: Record<string, Arg> = {};
    for (const p of n.namedChildren) {
      const key = p.type === 'pair' ? p.childForFieldName('key')?.text.replace(/^['"]|['"]$/g, '') : undefined;
      if (key) out[key] = argValue(scope, p.childForFieldName('value'), depth + 1);
    }
    return out;
  }
  return undefined;
}

/** The environment variables an address expression is built from: a name, a template, a wrapper call. */
function envVarsOf(scope: JsScope, node: Node | null | undefined, out = new Set<string>(), depth = 0): Set<string> {
  if (!node || depth > 5) return out;
  const n = unwrap(node);
  const env = envName(n, scope.constant);
  if (env) {
    out.add(env);
    return out;
  }
  switch (n.type) {
    case 'identifier': {
      const b = scope.bindings.get(n.text);
      if (b && 'node' in b) envVarsOf(scope, b.node, out, depth + 1);
      else if (b?.value.envVar) out.add(b.value.envVar);
      break;
    }
    case 'template_string':
      for (const sub of n.namedChildren) {
        if (sub.type === 'template_substitution') envVarsOf(scope, sub.namedChild(0), out, depth + 1);
      }
      break;
    case 'binary_expression':
      envVarsOf(scope, n.childForFieldName('left'), out, depth + 1);
      envVarsOf(scope, n.childForFieldName('right'), out, depth + 1);
      break;
    case 'call_expression': {
      const fn = n.childForFieldName('function')?.text ?? '';
      const wrapper = scope.envWrappers.get(fn);
      const key = wrapper ? stringOf(scope, args(n)[wrapper.key]) : undefined;
      if (key) out.add(key);
      break;
    }
  }
  return out;
}

/** What an expression says about a port, following const bindings a few steps. */
function evalPort(scope: JsScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  const n = unwrap(node);
  switch (n.type) {
    case 'number':
      return { port: validPort(Number(n.text)) };
    case 'string':
    case 'template_string': {
      const s = stringValue(n);
      return s === undefined ? undefined : { port: portFromDigits(s) };
    }
    case 'binary_expression': {
      const op = n.childForFieldName('operator')?.text;
      if (op !== '||' && op !== '??') return undefined;
      return mergePort(
        evalPort(scope, n.childForFieldName('left'), depth + 1),
        evalPort(scope, n.childForFieldName('right'), depth + 1),
      );
    }
    case 'ternary_expression': {
      // `process.env.PORT ? Number(process.env.PORT) : 3333`: the env variable, else the literal default.
      const cond = evalPort(scope, n.childForFieldName('condition'), depth + 1);
      if (!cond?.envVar) return undefined;
      return mergePort(
        evalPort(scope, n.childForFieldName('consequence'), depth + 1) ?? cond,
        evalPort(scope, n.childForFieldName('alternative'), depth + 1),
      );
    }
    case 'unary_expression':
      return n.childForFieldName('operator')?.text === '+'
        ? evalPort(scope, n.childForFieldName('argument'), depth + 1)
        : undefined;
    case 'call_expression': {
      const fn = n.childForFieldName('function')?.text ?? '';
      return numberCasts.has(fn) ? evalPort(scope, args(n)[0], depth + 1) : undefined;
    }
    case 'member_expression':
    case 'subscript_expression': {
      const name = envName(n, scope.constant);
      return name ? { envVar: name } : undefined;
    }
    case 'identifier':
    case 'shorthand_property_identifier': {
      const b = scope.bindings.get(n.text);
      if (!b) return undefined;
      return 'node' in b ? evalPort(scope, b.node, depth + 1) : b.value;
    }
    default:
      return undefined;
  }
}

/** A listen address: "0.0.0.0:50051", `0.0.0.0:${PORT}`, a const holding one. */
function evalAddress(scope: JsScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  const n = unwrap(node);
  if (n.type === 'identifier') {
    const b = scope.bindings.get(n.text);
    return b && 'node' in b ? evalAddress(scope, b.node, depth + 1) : undefined;
  }
  if (n.type === 'string') return { port: portFromAddress(n.text.slice(1, -1)) };
  if (n.type !== 'template_string') return undefined;
  const last = n.namedChildren[n.namedChildren.length - 1];
  const head = n.text.slice(1, last ? last.startIndex - n.startIndex : -1);
  if (last?.type === 'template_substitution' && n.text.endsWith('}`') && /^[\w.*[\]:-]*:$/.test(head)) {
    return evalPort(scope, last.namedChild(0), depth + 1);
  }
  return { port: portFromAddress(stringValue(n) ?? '') };
}

/** "app.listen(PORT)" plus ", PORT = process.env.PORT || 3000" when the argument is a binding. */
function reasonFor(scope: JsScope, site: string, arg: Node | undefined): string {
  if (!arg) return site;
  const a = unwrap(arg);
  if (a.type !== 'identifier' && a.type !== 'shorthand_property_identifier') return site;
  const b = scope.bindings.get(a.text);
  if (!b) return site;
  return `${site}, ${a.text} = ${brief('node' in b ? b.node.text : b.text, 50)}`;
}

// ───────────────────────────── rules, one per fact ─────────────────────────────

/** A call of a method the rules know: where its facts go, its arguments, and how it is shown in a reason. */
interface CallSite {
  fn: Node;
  method: string;
  isMember: boolean;
  list: Node[];
  line: At;
  /** `app.listen`, `server.bindAsync`: the receiver when it is a plain name. */
  shown: string;
  object: Node | undefined;
}

function readCall(scope: JsScope, call: Node): void {
  const fn = call.childForFieldName('function');
  if (!fn) return;
  const isMember = fn.type === 'member_expression';
  const method = isMember ? (fn.childForFieldName('property')?.text ?? '') : fn.type === 'import' ? 'require' : fn.text;
  // axios.get(url) is a client call, not a route: it may dial another service.
  if (!interestingCalls.has(method) || (isMember && httpVerbs.has(method) && /^axios\./.test(fn.text))) {
    serviceCallRules(scope, call, fn, method);
    return;
  }
  const list = args(call);
  // A chained call (`http.createServer(app)\n  .listen(3000)`) is reported on the line of its method name.
  const line: At = (fn.type === 'member_expression' ? fn.childForFieldName('property') : null) ?? call;
  if (method === 'require' && !isMember) {
    const source = stringValue(list[0] ?? null);
    if (source !== undefined) scope.sink.import(source, line);
    return;
  }
  const object = isMember ? unwrap(fn.childForFieldName('object')!) : undefined;
  const shown = `${object?.type === 'identifier' || object?.type === 'this' ? `${object.text}.` : ''}${method}`;
  const site: CallSite = { fn, method, isMember, list, line, shown, object };
  if (listenPortRule(scope, site)) return;
  routeCallRule(scope, site);
}

/** Listen ports: listen(port) or listen({ port }), gRPC bindAsync(address), app.set('port', …), serve({ port }). */
function listenPortRule(scope: JsScope, { method, isMember, list, line, shown }: CallSite): boolean {
  const { sink } = scope;
  if (method === 'listen' && list.length > 0) {
    const first = unwrap(list[0]);
    if (first.type === 'object') {
      const portNode = objectProperty(first, 'port');
      sink.port(
        evalPort(scope, portNode),
        line,
        reasonFor(scope, `${shown}({ port: ${brief(portNode?.text ?? '', 40)} })`, portNode),
      );
    } else {
      sink.port(evalPort(scope, first), line, reasonFor(scope, `${shown}(${brief(first.text, 40)})`, first));
    }
    return true;
  }
  if (method === 'bindAsync' && list.length > 0) {
    // @grpc/grpc-js: server.bindAsync(`0.0.0.0:${PORT}`, credentials, cb)
    sink.port(evalAddress(scope, list[0]), line, reasonFor(scope, `${shown}(${brief(list[0].text, 40)})`, list[0]));
    return true;
  }
  if (method === 'set' && isMember && list.length === 2 && stringValue(list[0]) === 'port') {
    sink.port(
      evalPort(scope, list[1]),
      line,
      reasonFor(scope, `${shown}('port', ${brief(list[1].text, 40)})`, list[1]),
    );
    return true;
  }
  if ((method === 'serve' || method === 'createServer') && list.length > 0 && unwrap(list[0]).type === 'object') {
    const portNode = objectProperty(unwrap(list[0]), 'port');
    if (portNode) {
      sink.port(
        evalPort(scope, portNode),
        line,
        reasonFor(scope, `${shown}({ port: ${brief(portNode.text, 40)} })`, portNode),
      );
    }
    return true;
  }
  return false;
}

/** Routes: app.get('/health', handler), fastify.route({ url, method }), express app.route('/health'). */
function routeCallRule({ sink }: JsScope, { method, isMember, list, line, object }: CallSite): void {
  if (isMember && httpVerbs.has(method) && list.length >= 2 && object && !clientObjects.has(object.text)) {
    const path = stringValue(list[0]);
    const handler = unwrap(list[list.length - 1]).type;
    if (
      path !== undefined &&
      /^(?:arrow_function|function_expression|function|identifier|member_expression|call_expression)$/.test(handler)
    ) {
      sink.route(path, line, method === 'all' ? undefined : method);
    }
    return;
  }
  if (isMember && method === 'route' && list.length === 1) {
    const only = unwrap(list[0]);
    if (only.type === 'object') {
      const url = stringValue(objectProperty(only, 'url') ?? objectProperty(only, 'path') ?? null);
      const verb = stringValue(objectProperty(only, 'method') ?? null);
      if (url !== undefined) sink.route(url, line, verb);
    } else {
      const path = stringValue(only); // express: app.route('/health').get(...)
      if (path !== undefined) sink.route(path, line);
    }
  }
}

/** Env wrapper calls, gRPC services served, dialled addresses and broker queues: the first rule that claims it. */
function serviceCallRules(scope: JsScope, call: Node, fn: Node, method: string): void {
  const wrapper = fn.type === 'identifier' ? scope.envWrappers.get(method) : undefined;
  const http = httpMethods.has(method);
  const broker = mayBeBrokerCall(method) && scope.families().size > 0;
  // Most calls are none of these: their arguments are not even listed.
  if (!wrapper && !http && !broker && method !== 'addService' && method !== 'create') return;
  const list = args(call);
  const line: At = (fn.type === 'member_expression' ? fn.childForFieldName('property') : null) ?? call;
  if (wrapper) {
    envWrapperCallRule(scope, call, method, wrapper, list);
    return;
  }
  if (grpcServiceRule(scope, method, list, line)) return;
  if (dialRule(scope, fn, method, http, list, line)) return;
  if (broker) brokerRule(scope, method, list, line, fn.text, false);
}

/** A call of the file's own env wrapper reads the variable it names: `requiredEnv('CART_SERVICE_ADDR')`. */
function envWrapperCallRule(
  scope: JsScope,
  call: Node,
  method: string,
  wrapper: { key: number; fallback?: number },
  list: Node[],
): void {
  const { sink } = scope;
  const key = stringOf(scope, list[wrapper.key]);
  if (key !== undefined && /^[A-Z][A-Z0-9_]*$/.test(key)) {
    const fallback = wrapper.fallback !== undefined ? literalText(list[wrapper.fallback] ?? null) : undefined;
    sink.env(key, lineOf(call), fallback, method);
  }
}

/** gRPC served: server.addService(shopProto.CurrencyService.service, handlers). */
function grpcServiceRule({ sink }: JsScope, method: string, list: Node[], line: At): boolean {
  if (method !== 'addService' || list.length < 1) return false;
  const first = unwrap(list[0]);
  if (first.type === 'member_expression' && first.childForFieldName('property')?.text === 'service') {
    const owner = first.childForFieldName('object');
    const served = owner?.type === 'member_expression' ? owner.childForFieldName('property')?.text : owner?.text;
    const shown = `addService(${brief(first.text, 50)})`;
    if (served) sink.grpc(served === 'Health' ? GRPC_HEALTH : served, 'server', line, shown);
  }
  return true;
}

/** Dialled addresses: fetch(url), axios.get(url), got(url), axios.create({ baseURL }). */
function dialRule(scope: JsScope, fn: Node, method: string, http: boolean, list: Node[], line: At): boolean {
  const text = fn.text;
  if (http && httpCallees.test(text) && list[0]) {
    scope.sink.dial(envVarsOf(scope, list[0]), line, `${brief(text, 30)}(${brief(list[0].text, 40)})`);
    return true;
  }
  if (method === 'create' && text === 'axios.create') {
    const options = list[0] ? unwrap(list[0]) : undefined;
    const base = options?.type === 'object' ? objectProperty(options, 'baseURL') : undefined;
    if (base) scope.sink.dial(envVarsOf(scope, base), line, `axios.create({ baseURL: ${brief(base.text, 40)} })`);
    return true;
  }
  return false;
}

/** Broker queues, topics and channels a call (or a constructor) sends to or receives from. */
function brokerRule(scope: JsScope, method: string, list: Node[], line: At, shown: string, ctor: boolean): void {
  if (!mayBeBrokerCall(method) || !scope.families().size) return;
  const values = list.map((a) => argValue(scope, a));
  // kafkajs producer.send({ topic }) takes one object; `res.send('ok')` is an HTTP reply, not a topic.
  if (method === 'send' && typeof values[0] !== 'object') return;
  for (const use of brokerUses({ lang: 'javascript', method, args: values, kw: {}, ctor }, scope.families())) {
    const verb = use.role === 'produce' ? 'sends to' : 'receives from';
    scope.sink.topic(use.system, use.name, use.role, line, `${brief(shown, 30)}(…) ${verb} ${use.name}`);
  }
}

/** `new …`: a generated gRPC client, a BullMQ Queue or Worker, or a server given its port. */
function readNew(scope: JsScope, node: Node): void {
  const ctorNode = node.childForFieldName('constructor');
  const ctor = ctorNode?.text ?? '';
  const list = args(node);
  if (grpcClientRule(scope, node, ctorNode, ctor, list)) return;
  const bare = ctorNode?.type === 'member_expression' ? (ctorNode.childForFieldName('property')?.text ?? '') : ctor;
  if (/^(?:Queue|Worker)$/.test(bare)) brokerRule(scope, bare, list, node, `new ${ctor}`, true);
  serverPortRule(scope, node, ctor, list);
}

/** A generated gRPC client: new pkg.CurrencyService(addr, credentials.createInsecure()), new CartServiceClient(). */
function grpcClientRule(scope: JsScope, node: Node, ctorNode: Node | null, ctor: string, list: Node[]): boolean {
  if (list.length < 2 || !/credentials/.test(list[1].text)) return false;
  const last = ctorNode?.type === 'member_expression' ? ctorNode.childForFieldName('property')?.text : ctor;
  const called = last?.replace(/Client$/, '');
  if (called && /^[A-Z]\w*$/.test(called)) {
    scope.sink.grpc(called, 'client', lineOf(node), `new ${brief(ctor, 50)}(…)`);
    scope.sink.dial(envVarsOf(scope, list[0]), lineOf(node), `new ${brief(ctor, 40)}(${brief(list[0].text, 30)}, …)`);
  }
  return true;
}

/** `new WebSocketServer({ port: 8080 })`, `new Server(3000)`. */
function serverPortRule(scope: JsScope, node: Node, ctor: string, list: Node[]): void {
  if (!/Server$/.test(ctor)) return;
  const first = list[0];
  if (!first) return;
  const a = unwrap(first);
  const portNode = a.type === 'object' ? objectProperty(a, 'port') : a.type === 'number' ? a : undefined;
  if (!portNode) return;
  const shown = a.type === 'object' ? `{ port: ${brief(portNode.text, 40)} }` : a.text;
  scope.sink.port(evalPort(scope, portNode), lineOf(node), reasonFor(scope, `new ${ctor}(${shown})`, portNode));
}

/** Env reads, with the `|| default` / `?? default` beside them; the own PORT with a default is a weak port. */
function envReadRule({ sink, constant }: JsScope, node: Node): void {
  const name = envName(node, constant);
  if (!name) return;
  // Climb through casts and parentheses to find `|| default` / `?? default`.
  let top = node;
  for (let i = 0; i < 4; i++) {
    const parent = top.parent;
    if (!parent) break;
    if (
      wrappers.has(parent.type) ||
      (parent.type === 'unary_expression' && parent.childForFieldName('operator')?.text === '+')
    ) {
      top = parent;
      continue;
    }
    if (
      parent.type === 'arguments' &&
      parent.parent?.type === 'call_expression' &&
      numberCasts.has(parent.parent.childForFieldName('function')?.text ?? '')
    ) {
      top = parent.parent;
      continue;
    }
    break;
  }
  const parent = top.parent;
  let defaultValue: string | undefined;
  if (
    parent?.type === 'binary_expression' &&
    /^(?:\|\||\?\?)$/.test(parent.childForFieldName('operator')?.text ?? '') &&
    parent.childForFieldName('left')?.equals(top)
  ) {
    defaultValue = literalText(parent.childForFieldName('right'));
    // `const PORT = process.env.PORT || 3000` is worth a (weak) port even before we see where it is used.
    if (isOwnPortVar(name) && defaultValue !== undefined) {
      sink.port({ port: portFromDigits(defaultValue), envVar: name }, lineOf(node), brief(parent.text, 80), true);
    }
  }
  sink.env(name, lineOf(node), defaultValue);
}

function urlRule({ sink }: JsScope, node: Node): void {
  const text = node.text;
  if (text.includes('://')) sink.url(text.slice(1, -1), node);
}

function importRule({ sink }: JsScope, node: Node): void {
  const source = stringValue(node.childForFieldName('source'));
  if (source !== undefined) sink.import(source, lineOf(node));
}

/** Nest: `@Get('health')` under `@Controller('api')`. */
function nestRouteRule({ sink }: JsScope, node: Node): void {
  const call = node.namedChild(0);
  if (call?.type !== 'call_expression') return;
  const name = call.childForFieldName('function')?.text ?? '';
  if (!nestVerbs.has(name)) return;
  const path = stringValue(args(call)[0] ?? null) ?? '';
  sink.route(joinRoute(controllerPrefix(node), path), lineOf(node), name === 'All' ? undefined : name);
}

/** Config objects: `host: 'db'` names a host; `port: process.env.PORT || 3000` is weak evidence of the own port. */
function configPairRule(scope: JsScope, pair: Node): void {
  const key = pair.childForFieldName('key')?.text.replace(/^['"]|['"]$/g, '');
  if (key === 'host' || key === 'hostname') {
    // { host: 'db' } or { host: process.env.DB_HOST || 'db' }
    const value = unwrap(pair.childForFieldName('value')!);
    const literal =
      value.type === 'binary_expression' ? literalText(value.childForFieldName('right')) : stringValue(value);
    if (literal !== undefined) scope.sink.host(literal, pair);
    return;
  }
  if (key !== 'port') return;
  const value = evalPort(scope, pair.childForFieldName('value'));
  if (value?.port !== undefined && isOwnPortVar(value.envVar))
    scope.sink.port(value, lineOf(pair), brief(pair.text, 80), true);
}

/** A plain node:http handler routes by comparison: `if (req.url === '/health')`, `url.pathname == "/ready"`. */
function urlComparisonRule({ sink }: JsScope, node: Node): void {
  const op = node.childForFieldName('operator')?.text;
  if (op !== '===' && op !== '==') return;
  const left = node.childForFieldName('left');
  const right = node.childForFieldName('right');
  for (const [subject, value] of [
    [left, right],
    [right, left],
  ] as const) {
    if (!subject || !value || !/\.(url|pathname|path)$/.test(subject.text)) continue;
    const path = stringValue(value);
    if (path !== undefined && path.startsWith('/')) sink.route(path, node);
  }
}

/** The `@Controller('api')` prefix of the class around a Nest handler. */
function controllerPrefix(decorator: Node): string {
  let n: Node | null = decorator.parent;
  while (n && n.type !== 'class_declaration' && n.type !== 'class') n = n.parent;
  if (!n) return '';
  const candidates = [...n.namedChildren, ...(n.parent?.type === 'export_statement' ? n.parent.namedChildren : [])];
  for (const d of candidates) {
    if (d.type !== 'decorator') continue;
    const call = d.namedChild(0);
    if (call?.type === 'call_expression' && call.childForFieldName('function')?.text === 'Controller') {
      const first = args(call)[0];
      if (first?.type === 'string') return first.text.slice(1, -1);
      if (first?.type === 'object') {
        const path = objectProperty(first, 'path');
        if (path?.type === 'string') return path.text.slice(1, -1);
      }
    }
  }
  return '';
}

function readEnvPattern(pattern: Node, bindings: Map<string, Binding>, sink: FactSink): void {
  for (const p of pattern.namedChildren) {
    const line = lineOf(p);
    if (p.type === 'shorthand_property_identifier_pattern') {
      sink.env(p.text, line);
      if (!bindings.has(p.text)) bindings.set(p.text, { value: { envVar: p.text }, text: `process.env.${p.text}` });
    } else if (p.type === 'object_assignment_pattern') {
      const left = p.childForFieldName('left');
      const right = p.childForFieldName('right');
      if (left?.type !== 'shorthand_property_identifier_pattern') continue;
      const def = literalText(right);
      sink.env(left.text, line, def);
      const value: PortValue = { envVar: left.text, port: def !== undefined ? portFromDigits(def) : undefined };
      if (!bindings.has(left.text))
        bindings.set(left.text, { value, text: `process.env.${left.text} ?? ${def ?? '…'}` });
      if (isOwnPortVar(left.text)) sink.port(value, line, `{ ${brief(p.text, 40)} } = process.env`, true);
    } else if (p.type === 'pair_pattern') {
      const key = p.childForFieldName('key');
      const value = p.childForFieldName('value');
      if (key && value?.type === 'identifier') {
        sink.env(key.text, line);
        if (!bindings.has(value.text))
          bindings.set(value.text, { value: { envVar: key.text }, text: `process.env.${key.text}` });
      }
    }
  }
}
