// Go: net/http, gin, echo, fiber, chi listen sites (address strings), os.Getenv with fallbacks (and through the
// file's own wrappers), routes, gRPC, dialled addresses, broker topics, imports. One rule per fact, over a scope
// built once per file.
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

// Methods whose address argument is where the service listens.
const listenMethods = new Set([
  'ListenAndServe',
  'ListenAndServeTLS',
  'Run',
  'RunTLS',
  'Start',
  'StartTLS',
  'Listen',
  'ListenTLS',
]);
const routeMethods = new Set([
  'Handle',
  'HandleFunc',
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'Any',
  'Get',
  'Post',
  'Put',
  'Delete',
  'Patch',
  'Head',
  'Options',
  'Method',
  'MethodFunc',
  'All',
]);
const verbs = /^(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)$/i;

function goString(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'interpreted_string_literal' || node.type === 'raw_string_literal') return node.text.slice(1, -1);
  return undefined;
}

function argList(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
}

function isEnvCall(node: Node): boolean {
  return (
    node.type === 'call_expression' &&
    /^(?:os\.Getenv|os\.LookupEnv|syscall\.Getenv)$/.test(node.childForFieldName('function')?.text ?? '')
  );
}

function envCall(node: Node): string | undefined {
  return isEnvCall(node) ? goString(argList(node)[0]) : undefined;
}

/** `grpc.Dial(target)`, `grpc.NewClient(target)`, `http.Get(url)`: the argument that holds the address, if a dial. */
function dialTarget(call: Node): Node | undefined {
  const fn = call.childForFieldName('function');
  if (fn?.type !== 'selector_expression') return undefined;
  const pkg = fn.childForFieldName('operand')?.text;
  const method = fn.childForFieldName('field')?.text ?? '';
  const list = argList(call);
  if (pkg === 'grpc' && /^(?:Dial|DialContext|NewClient)$/.test(method)) return list[method === 'DialContext' ? 1 : 0];
  if (pkg === 'http' && /^(?:Get|Post|Head)$/.test(method)) return list[0];
  if (pkg === 'http' && /^NewRequest(?:WithContext)?$/.test(method)) return list[method === 'NewRequest' ? 1 : 2];
  return undefined;
}

// Generated-code calls that are not gRPC clients though they look like `New<X>Client`.
const notGrpcPackages = /^(?:redis|http|kafka|sarama|nats|storage|pubsub|s3|sqs|sns|dynamodb|minio|mongo|amqp)$/i;
const contextArg = /^(?:ctx|\w*Ctx|context\.(?:Background|TODO)\(\))$/;
const dialMethods = /^(?:Dial|DialContext|NewClient|Get|Post|Head|NewRequest|NewRequestWithContext)$/;

/** The names of a function's parameters in order, with whether each is a plain string. */
function parameters(fn: Node): { name: string; plainString: boolean }[] {
  const out: { name: string; plainString: boolean }[] = [];
  for (const d of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (d.type !== 'parameter_declaration') continue;
    const plainString = d.childForFieldName('type')?.text === 'string';
    for (const n of d.childrenForFieldName('name')) out.push({ name: n.text, plainString });
  }
  return out;
}

/** What every rule of one file reads: its nodes, the values bound to each name, wrappers, broker families. */
interface GoScope {
  sink: FactSink;
  nodes: Node[];
  /** Every value assigned to a name (`port := os.Getenv("PORT")`, then `port = "8080"` in the fallback branch). */
  bindings: Map<string, Node[]>;
  envWrappers: Map<string, { key: number; fallback?: number }>;
  dialWrappers: Map<string, number>;
  /** `&svc.cartSvcAddr` handed to an env wrapper holds that variable afterwards (filled while reading, in order). */
  heldEnv: Map<string, string>;
  families: ReturnType<typeof brokerFamilies>;
}

export function readGo(root: Node, sink: FactSink, source: string): void {
  const scope = goScope(root, sink, source);
  for (const node of scope.nodes) {
    switch (node.type) {
      case 'call_expression':
        readCall(scope, node);
        break;
      case 'keyed_element':
        keyedElementRule(scope, node);
        break;
      case 'interpreted_string_literal':
      case 'raw_string_literal':
        urlRule(scope, node);
        break;
      case 'import_spec':
        importRule(scope, node);
        break;
    }
  }
}

function goScope(root: Node, sink: FactSink, source: string): GoScope {
  const types = [
    'call_expression',
    'import_spec',
    'short_var_declaration',
    'assignment_statement',
    'var_spec',
    'const_spec',
  ];
  if (source.includes('Addr') || source.includes('Host') || source.includes('Topic')) types.push('keyed_element');
  // A wrapper reads or dials one of its parameters: a name, not a literal, inside the parentheses.
  const wrapped = /(?:Getenv|LookupEnv|Dial|DialContext|NewClient)\(\s*(?:ctx,\s*)?[A-Za-z_]/;
  if (wrapped.test(source)) types.push('function_declaration');
  if (source.includes('://')) types.push('interpreted_string_literal', 'raw_string_literal');
  const nodes = root.descendantsOfType(types);
  const families = brokerFamilies(
    nodes.filter((n) => n.type === 'import_spec').map((n) => ({ module: goString(n.childForFieldName('path')) ?? '' })),
  );
  return { sink, nodes, bindings: bindingsOf(nodes), ...wrappersOf(nodes), heldEnv: new Map(), families };
}

function bindingsOf(nodes: Node[]): Map<string, Node[]> {
  const bindings = new Map<string, Node[]>();
  const bind = (names: Node | null, values: Node | null): void => {
    if (!names || !values) return;
    const ns = names.type === 'expression_list' ? names.namedChildren : [names];
    const vs = values.type === 'expression_list' ? values.namedChildren : [values];
    ns.forEach((n, i) => {
      if (n.type !== 'identifier' || !vs[i] || (vs.length !== ns.length && vs.length !== 1)) return;
      const list = bindings.get(n.text) ?? [];
      if (list.length < 8) list.push(vs.length === 1 && ns.length > 1 ? vs[0] : vs[i]);
      bindings.set(n.text, list);
    });
  };
  for (const d of nodes) {
    if (d.type === 'short_var_declaration' || d.type === 'assignment_statement') {
      bind(d.childForFieldName('left'), d.childForFieldName('right'));
    } else if (d.type === 'var_spec' || d.type === 'const_spec') {
      const value = d.childForFieldName('value');
      const names = d.childrenForFieldName('name');
      if (value && names.length === 1) bind(names[0], value);
    }
  }
  return bindings;
}

/**
 * Functions this file defines around an env read or a dial of one of their parameters: `mustMapEnv(&x, "NAME")`,
 * `getenvOr("NAME", "default")`, `mustConnGRPC(ctx, &conn, addr)`. Their calls count as the read or the dial.
 */
function wrappersOf(nodes: Node[]): Pick<GoScope, 'envWrappers' | 'dialWrappers'> {
  const envWrappers = new Map<string, { key: number; fallback?: number }>();
  const dialWrappers = new Map<string, number>();
  for (const fn of nodes) {
    if (fn.type !== 'function_declaration') continue;
    const name = fn.childForFieldName('name')?.text;
    const params = parameters(fn);
    const body = fn.childForFieldName('body');
    if (!name || !body || params.length === 0) continue;
    const index = (n: Node | undefined) => (n?.type === 'identifier' ? params.findIndex((p) => p.name === n.text) : -1);
    for (const call of body.descendantsOfType('call_expression')) {
      const key = isEnvCall(call) ? index(argList(call)[0]) : -1;
      if (key >= 0 && !envWrappers.has(name)) {
        const used = new Set(body.descendantsOfType('identifier').map((i) => i.text));
        const fallback = params.findIndex((p, i) => i !== key && p.plainString && used.has(p.name));
        envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
      }
      const dial = dialTarget(call);
      if (dial && index(dial) >= 0 && !dialWrappers.has(name)) dialWrappers.set(name, index(dial));
    }
  }
  return { envWrappers, dialWrappers };
}

// ───────────────────────────── values of expressions ─────────────────────────────

/** A string a node stands for: a literal, or a name bound to one (`const ordersTopic = "orders"`). */
function stringOf(scope: GoScope, node: Node | null | undefined, depth = 0): string | undefined {
  if (!node || depth > 3) return undefined;
  const s = goString(node);
  if (s !== undefined) return s;
  if (node.type !== 'identifier') return undefined;
  for (const v of scope.bindings.get(node.text) ?? []) {
    const value = stringOf(scope, v, depth + 1);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The environment variables an address expression is built from. */
function envVarsOf(scope: GoScope, node: Node | null | undefined, out = new Set<string>(), depth = 0): Set<string> {
  if (!node || depth > 5) return out;
  switch (node.type) {
    case 'identifier':
      for (const v of scope.bindings.get(node.text) ?? []) envVarsOf(scope, v, out, depth + 1);
      break;
    case 'selector_expression': {
      const held = scope.heldEnv.get(node.text);
      if (held) out.add(held);
      break;
    }
    case 'parenthesized_expression':
      envVarsOf(scope, node.namedChild(0), out, depth + 1);
      break;
    case 'binary_expression':
      envVarsOf(scope, node.childForFieldName('left'), out, depth + 1);
      envVarsOf(scope, node.childForFieldName('right'), out, depth + 1);
      break;
    case 'call_expression': {
      const env = envCall(node);
      const fn = node.childForFieldName('function')?.text ?? '';
      const wrapper = scope.envWrappers.get(fn);
      const viaWrapper = wrapper ? goString(argList(node)[wrapper.key]) : undefined;
      if (env ?? viaWrapper) out.add((env ?? viaWrapper)!);
      else if (/^(?:fmt\.Sprintf|net\.JoinHostPort|strings\.\w+|cmp\.Or|string)$/.test(fn)) {
        for (const a of argList(node)) envVarsOf(scope, a, out, depth + 1);
      }
      break;
    }
  }
  return out;
}

/** A port-ish value: "8080", 8080, os.Getenv("PORT"), strconv.Itoa(p), a variable holding one of those. */
function evalPort(scope: GoScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  switch (node.type) {
    case 'int_literal':
      return { port: validPort(Number(node.text)) };
    case 'interpreted_string_literal':
    case 'raw_string_literal': {
      const s = goString(node)!;
      return { port: portFromDigits(s) ?? portFromAddress(s) };
    }
    case 'parenthesized_expression':
      return evalPort(scope, node.namedChild(0), depth + 1);
    case 'identifier':
      return evalIdent(scope, node, depth, evalPort);
    case 'call_expression': {
      const env = envCall(node);
      if (env) return { envVar: env };
      const fn = node.childForFieldName('function')?.text ?? '';
      const list = argList(node);
      if (/^(?:strconv\.Itoa|fmt\.Sprint|string)$/.test(fn)) return evalPort(scope, list[0], depth + 1);
      if (fn === 'cmp.Or') {
        return list.reduce<PortValue | undefined>((acc, a) => mergePort(acc, evalPort(scope, a, depth + 1)), undefined);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A listen address: ":8080", "0.0.0.0:" + port, fmt.Sprintf(":%s", port), a variable holding one of those. */
function evalAddress(scope: GoScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  switch (node.type) {
    case 'interpreted_string_literal':
    case 'raw_string_literal':
      return { port: portFromAddress(goString(node)!) };
    case 'parenthesized_expression':
      return evalAddress(scope, node.namedChild(0), depth + 1);
    case 'identifier':
      return evalIdent(scope, node, depth, evalAddress);
    case 'binary_expression': {
      // ":" + port, "0.0.0.0:" + port, or addr + ":" + port (a host variable, then the port)
      const leftNode = node.childForFieldName('left');
      const left =
        goString(leftNode) ??
        (leftNode?.type === 'binary_expression' ? goString(leftNode.childForFieldName('right')) : undefined);
      if (node.childForFieldName('operator')?.text !== '+' || left === undefined || !/^[\w.*[\]-]*:$/.test(left))
        return undefined;
      return evalPort(scope, node.childForFieldName('right'), depth + 1);
    }
    case 'call_expression': {
      const fn = node.childForFieldName('function')?.text ?? '';
      const list = argList(node);
      if (fn === 'fmt.Sprintf') {
        const format = goString(list[0]);
        if (format === undefined || !/^[\w.*[\]-]*:%[sdv]$/.test(format)) return undefined;
        return evalPort(scope, list[1], depth + 1);
      }
      if (fn === 'net.JoinHostPort') return evalPort(scope, list[1], depth + 1);
      if (fn === 'cmp.Or') {
        return list.reduce<PortValue | undefined>(
          (acc, a) => mergePort(acc, evalAddress(scope, a, depth + 1)),
          undefined,
        );
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function evalIdent(
  scope: GoScope,
  node: Node,
  depth: number,
  by: (s: GoScope, n: Node, d: number) => PortValue | undefined,
): PortValue | undefined {
  let out: PortValue | undefined;
  for (const v of scope.bindings.get(node.text) ?? []) out = mergePort(out, by(scope, v, depth + 1));
  return out;
}

function reasonFor(scope: GoScope, site: string, arg: Node | undefined): string {
  if (!arg) return site;
  const idents = arg.type === 'identifier' ? [arg] : arg.descendantsOfType('identifier');
  const bound = idents.find((i) => scope.bindings.has(i.text));
  if (!bound) return site;
  const values = scope.bindings.get(bound.text)!;
  return `${site}, ${bound.text} = ${values.map((v) => brief(v.text, 30)).join(' / ')}`;
}

function argValue(scope: GoScope, node: Node | undefined, depth = 0): Arg {
  if (!node) return undefined;
  const s = stringOf(scope, node);
  if (s !== undefined) return s;
  if (node.type === 'composite_literal' && depth < 2) {
    const body = node.childForFieldName('body');
    const elements = body?.namedChildren ?? [];
    if (elements.every((e) => e.type === 'literal_element')) {
      return elements.map((e) => stringOf(scope, e.namedChild(0))).filter((x): x is string => x !== undefined);
    }
  }
  if (node.type === 'unary_expression')
    return argValue(scope, node.childForFieldName('operand') ?? undefined, depth + 1);
  return undefined;
}

function isParameter(node: Node): boolean {
  if (node.type !== 'identifier') return false;
  let fn: Node | null = node.parent;
  while (fn && !/^(?:function_declaration|method_declaration|func_literal)$/.test(fn.type)) fn = fn.parent;
  return !!fn && parameters(fn).some((p) => p.name === node.text);
}

/** gin/echo/fiber: api := r.Group("/api"); api.GET("/health") → "/api/health" (nested groups too). */
function groupPrefix(scope: GoScope, receiver: Node | null, depth = 0): string {
  if (receiver?.type !== 'identifier' || depth > 4) return '';
  const value = scope.bindings.get(receiver.text)?.[0];
  if (value?.type !== 'call_expression') return '';
  const fn = value.childForFieldName('function');
  if (fn?.type !== 'selector_expression' || !/^(?:Group|Route)$/.test(fn.childForFieldName('field')?.text ?? ''))
    return '';
  const prefix = goString(argList(value)[0]);
  if (prefix === undefined || !prefix.startsWith('/')) return '';
  return groupPrefix(scope, fn.childForFieldName('operand'), depth + 1) + prefix.replace(/\/+$/, '');
}

// ───────────────────────────── rules, one per fact ─────────────────────────────

/** A method call on a package or value: `pkg.Method(...)`, where the facts are placed, and its arguments. */
interface MethodCall {
  call: Node;
  fn: Node;
  method: string;
  line: At;
}

/** A call: an env read, a wrapper's call, or a method call that the rules below claim in turn. */
function readCall(scope: GoScope, call: Node): void {
  const line: At = call.childForFieldName('function')?.childForFieldName('field') ?? call;
  const env = envCall(call);
  if (env) {
    envReadRule(scope, call, env);
    return;
  }
  const fn = call.childForFieldName('function');
  if (fn?.type === 'identifier') {
    wrapperCallRule(scope, call, fn.text);
    return;
  }
  if (fn?.type !== 'selector_expression') return;
  const site: MethodCall = { call, fn, method: fn.childForFieldName('field')?.text ?? '', line };
  dialRule(scope, site);
  if (grpcRule(scope, site)) return;
  brokerRule(scope, site);
  if (dialledHostRule(scope, site)) return;
  if (listenPortRule(scope, site)) return;
  routeRule(scope, site);
}

/** Env reads, with the fallback the code assigns when the variable is empty: `if port == "" { port = "8080" }`. */
function envReadRule({ sink, bindings }: GoScope, call: Node, name: string): void {
  let defaultValue: string | undefined;
  let holder: Node | null = call.parent;
  if (holder?.type === 'expression_list') holder = holder.parent;
  if (
    holder &&
    (holder.type === 'short_var_declaration' || holder.type === 'assignment_statement' || holder.type === 'var_spec')
  ) {
    const left = holder.childForFieldName('left') ?? holder.childForFieldName('name');
    const variable = left?.type === 'expression_list' ? left.namedChild(0) : left;
    if (variable?.type === 'identifier') {
      for (const v of bindings.get(variable.text) ?? []) {
        const s = goString(v);
        if (s !== undefined && s !== '') {
          defaultValue = s;
          break;
        }
      }
    }
  } else if (
    call.parent?.type === 'argument_list' &&
    call.parent.parent?.childForFieldName('function')?.text === 'cmp.Or'
  ) {
    defaultValue = argList(call.parent.parent)
      .map((a) => goString(a))
      .find((s) => s !== undefined && s !== '');
  }
  sink.env(name, lineOf(call), defaultValue);
  if (isOwnPortVar(name) && defaultValue !== undefined) {
    sink.port(
      { port: portFromDigits(defaultValue) ?? portFromAddress(defaultValue), envVar: name },
      lineOf(call),
      `${brief(call.text, 40)} with fallback "${defaultValue}"`,
      true,
    );
  }
}

/** A call of the file's own env or dial wrapper counts as the read (`mustMapEnv(&x, "NAME")`) or the dial. */
function wrapperCallRule(scope: GoScope, call: Node, name: string): void {
  const { sink } = scope;
  const list = argList(call);
  const env = scope.envWrappers.get(name);
  const key = env ? goString(list[env.key]) : undefined;
  if (env && key !== undefined && /^[A-Z][A-Z0-9_]*$/.test(key)) {
    const fallback = env.fallback !== undefined ? goString(list[env.fallback]) : undefined;
    sink.env(key, lineOf(call), fallback || undefined, name);
    for (const a of list) {
      const held = a.type === 'unary_expression' && a.text.startsWith('&') ? a.childForFieldName('operand') : null;
      if (held) scope.heldEnv.set(held.text, key);
    }
    return;
  }
  const dial = scope.dialWrappers.get(name);
  if (dial !== undefined && list[dial]) {
    sink.dial(envVarsOf(scope, list[dial]), lineOf(call), `${name}(…, ${brief(list[dial].text, 40)})`);
  }
}

/** Dialled addresses: grpc.Dial(addr), http.Get(url); a dial of the enclosing function's parameter is a wrapper's. */
function dialRule(scope: GoScope, { call, fn, method, line }: MethodCall): void {
  const target = dialMethods.test(method) ? dialTarget(call) : undefined;
  if (target && !isParameter(target)) {
    scope.sink.dial(envVarsOf(scope, target), line, `${brief(fn.text, 30)}(${brief(target.text, 40)})`);
  }
}

/** gRPC: `pb.RegisterCartServiceServer` serves, `pb.NewCartServiceClient` calls. */
function grpcRule({ sink }: GoScope, { fn, method, line }: MethodCall): boolean {
  const grpcName = /^Register(\w+)Server$/.exec(method)?.[1] ?? /^New(\w+)Client$/.exec(method)?.[1];
  if (!grpcName || notGrpcPackages.test(fn.childForFieldName('operand')?.text ?? '')) return false;
  const server = method.startsWith('Register');
  const service = server && grpcName === 'Health' ? GRPC_HEALTH : grpcName;
  sink.grpc(service, server ? 'server' : 'client', line, brief(fn.text, 60));
  return true;
}

/** Broker topics, queues and subjects a call sends to or receives from. */
function brokerRule(scope: GoScope, { call, fn, method, line }: MethodCall): void {
  if (!scope.families.size || !mayBeBrokerCall(method)) return;
  const list = argList(call);
  const args = (list.length && contextArg.test(list[0].text) ? list.slice(1) : list).map((a) => argValue(scope, a));
  for (const use of brokerUses({ lang: 'go', method, args, kw: {} }, scope.families)) {
    const verb = use.role === 'produce' ? 'sends to' : 'receives from';
    scope.sink.topic(use.system, use.name, use.role, line, `${brief(fn.text, 30)}(…) ${verb} ${use.name}`);
  }
}

/** Clients dialled by address: grpc.NewClient("inventory:50051"), grpc.Dial(...), net.Dial("tcp", "cache:6379"). */
function dialledHostRule({ sink }: GoScope, { call, method, line }: MethodCall): boolean {
  if (!/^(?:NewClient|Dial|DialContext|DialTimeout)$/.test(method)) return false;
  for (const a of argList(call).slice(0, 3)) {
    const s = goString(a);
    const m = s === undefined ? undefined : /^([A-Za-z][\w.-]*):(\d{1,5})$/.exec(s);
    if (m && !/^(localhost|127\.0\.0\.1|0\.0\.0\.0)$/.test(m[1])) sink.host(m[1], line, Number(m[2]));
  }
  return true;
}

/** Listen ports: http.ListenAndServe(addr, ...), r.Run(addr), e.Start(addr), net.Listen("tcp", addr). */
function listenPortRule(scope: GoScope, { call, fn, method, line }: MethodCall): boolean {
  if (!listenMethods.has(method)) return false;
  const list = argList(call);
  // net.Listen("tcp", addr) has the address second; the others first.
  const addr = fn.text === 'net.Listen' ? list[1] : list[0];
  if (addr) {
    scope.sink.port(
      evalAddress(scope, addr),
      line,
      reasonFor(scope, `${brief(fn.text, 30)}(${brief(addr.text, 40)})`, addr),
    );
  }
  return true;
}

/** Routes: mux.HandleFunc("GET /healthz", ...), r.GET("/health", ...), under the group prefixes of the receiver. */
function routeRule(scope: GoScope, { call, fn, method, line }: MethodCall): void {
  const list = argList(call);
  if (!routeMethods.has(method) || list.length < 2) return;
  const pattern = goString(list[method === 'Method' || method === 'MethodFunc' ? 1 : 0]);
  if (pattern === undefined) return;
  // Go 1.22 patterns: "GET /healthz"
  const m = /^(?:([A-Z]+)\s+)?(\/\S*)$/.exec(pattern);
  if (!m) return;
  const verb =
    m[1] ??
    (verbs.test(method) ? method : method === 'Method' || method === 'MethodFunc' ? goString(list[0]) : undefined);
  const prefix = groupPrefix(scope, fn.childForFieldName('operand'));
  scope.sink.route(prefix && m[2] === '/' ? prefix : prefix + m[2], line, verb);
}

/** Struct fields: `&http.Server{Addr: ":8080"}` listens, `redis.Options{Addr: "cache:6379"}` names a host. */
function keyedElementRule(scope: GoScope, node: Node): void {
  const children = node.namedChildren;
  const key = children.length === 2 ? children[0].text : '';
  if (key === 'Topic') {
    topicFieldRule(scope, node, children[1]);
    return;
  }
  if (key !== 'Addr' && key !== 'Host') return;
  const value = children[1].type === 'literal_element' ? children[1].namedChild(0) : children[1];
  if (!value) return;
  const literalType = node.parent?.parent?.childForFieldName('type')?.text ?? '';
  if (key === 'Addr' && /(?:^|\.)Server$/.test(literalType)) {
    scope.sink.port(
      evalAddress(scope, value),
      node,
      reasonFor(scope, `${literalType}{Addr: ${brief(value.text, 40)}}`, value),
    );
  } else {
    const s = goString(value);
    const m = s === undefined ? undefined : /^([\w.-]+)(?::(\d{1,5}))?$/.exec(s);
    if (m) scope.sink.host(m[1], node, m[2] ? Number(m[2]) : undefined);
  }
}

/** kafka.Writer{Topic: "orders"} sends, kafka.ReaderConfig{Topic: "orders"} receives; sarama.ProducerMessage sends. */
function topicFieldRule(scope: GoScope, element: Node, valueNode: Node): void {
  const literalType = element.parent?.parent?.childForFieldName('type')?.text ?? '';
  const value = valueNode.type === 'literal_element' ? valueNode.namedChild(0) : valueNode;
  const topic = stringOf(scope, value);
  if (topic === undefined || !scope.families.has('kafka')) return;
  const role = /(?:Writer|WriterConfig|ProducerMessage|Message)$/.test(literalType)
    ? 'produce'
    : /(?:Reader|ReaderConfig)$/.test(literalType)
      ? 'consume'
      : undefined;
  const shown = `${brief(literalType, 30)}{Topic: ${brief(valueNode.text, 30)}}`;
  if (role) scope.sink.topic('kafka', topic, role, element, shown);
}

function urlRule({ sink }: GoScope, node: Node): void {
  const s = goString(node)!;
  if (s.includes('://')) sink.url(s, node);
}

function importRule({ sink }: GoScope, node: Node): void {
  const path = goString(node.childForFieldName('path'));
  if (path) sink.import(path, lineOf(node));
}
