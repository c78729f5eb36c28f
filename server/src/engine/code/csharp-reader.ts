// C#: ASP.NET Core minimal API routes, [Http*]/[Route] attributes, Kestrel URLs and Listen* ports, env reads, usings.
// One rule per fact, over a scope built once per file.
import type { Node } from 'web-tree-sitter';
import { type Arg, brokerFamilies, brokerUses, mayBeBrokerCall } from './broker-calls';
import { GRPC_HEALTH } from './code-facts';
import {
  brief,
  FactSink,
  joinRoute,
  lineOf,
  mergePort,
  portFromAddress,
  portFromDigits,
  validPort,
  type PortValue,
} from './fact-sink';

const mapVerbs: Record<string, string | undefined> = {
  MapGet: 'GET',
  MapPost: 'POST',
  MapPut: 'PUT',
  MapDelete: 'DELETE',
  MapPatch: 'PATCH',
  MapHealthChecks: 'GET',
  MapMethods: undefined,
};
const attributeVerbs: Record<string, string | undefined> = {
  HttpGet: 'GET',
  HttpPost: 'POST',
  HttpPut: 'PUT',
  HttpDelete: 'DELETE',
  HttpPatch: 'PATCH',
  Route: undefined,
};

function csString(node: Node | null | undefined): string | undefined {
  const n = node?.type === 'argument' || node?.type === 'attribute_argument' ? node.namedChild(0) : node;
  if (n?.type === 'string_literal') return n.text.slice(1, -1);
  if (n?.type === 'verbatim_string_literal') return n.text.slice(2, -1);
  return undefined;
}

function argList(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren ?? [];
}

/** An argument's expression: the last child, after an optional `name:`. */
function argExpr(arg: Node | undefined): Node | undefined {
  return arg?.type === 'argument' ? arg.namedChildren[arg.namedChildren.length - 1] : arg;
}

/** The last segment of a qualified or generic name: `Hipstershop.CartService.CartServiceBase` → CartServiceBase. */
function lastName(node: Node | null | undefined): string {
  if (!node) return '';
  if (node.type === 'qualified_name') return lastName(node.childForFieldName('name'));
  if (node.type === 'generic_name') return node.namedChild(0)?.text ?? '';
  return node.text;
}

/** `Hipstershop.CartService.CartServiceBase` / `Health.HealthBase`: the proto service a class implements. */
function servedByBase(base: Node): string | undefined {
  if (base.type !== 'qualified_name') return undefined;
  const name = lastName(base);
  const owner = lastName(base.childForFieldName('qualifier'));
  if (name !== `${owner}Base`) return undefined;
  return owner === 'Health' ? GRPC_HEALTH : owner;
}

function attributeArgs(attribute: Node): Node[] {
  return attribute.namedChildren.find((c) => c.type === 'attribute_argument_list')?.namedChildren ?? [];
}

function classRoute(node: Node): string {
  let n: Node | null = node.parent;
  while (n && n.type !== 'class_declaration') n = n.parent;
  if (!n) return '';
  for (const list of n.namedChildren.filter((c) => c.type === 'attribute_list')) {
    for (const a of list.namedChildren) {
      if (a.childForFieldName('name')?.text === 'Route') return csString(attributeArgs(a)[0]) ?? '';
    }
  }
  return '';
}

type EnvWrappers = Map<string, { key: number; fallback?: number }>;

/** What every rule of one file reads: its nodes, local bindings, env wrappers, broker families. */
interface CSharpScope {
  sink: FactSink;
  nodes: Node[];
  bindings: Map<string, Node>;
  /** Methods this file defines around Environment.GetEnvironmentVariable(parameter): `Env("NAME")` reads NAME. */
  envWrappers: EnvWrappers;
  families: ReturnType<typeof brokerFamilies>;
}

export function readCSharp(root: Node, sink: FactSink, source: string): void {
  const scope = csharpScope(root, sink, source);
  for (const node of scope.nodes) {
    const line = lineOf(node);
    switch (node.type) {
      case 'invocation_expression':
        readInvocation(scope, node, line);
        break;
      case 'class_declaration':
        grpcServerClassRule(scope, node);
        break;
      case 'object_creation_expression':
        grpcClientRule(scope, node);
        break;
      case 'element_access_expression':
        configReadRule(scope, node, line);
        break;
      case 'attribute':
        routeAttributeRule(scope, node, line);
        break;
      case 'string_literal':
      case 'verbatim_string_literal':
        urlRule(scope, node, line);
        break;
      case 'using_directive':
        importRule(scope, node, line);
        break;
    }
  }
}

function csharpScope(root: Node, sink: FactSink, source: string): CSharpScope {
  const types = ['invocation_expression', 'attribute', 'using_directive', 'variable_declarator'];
  if (source.includes('://')) types.push('string_literal', 'verbatim_string_literal');
  if (source.includes('Base')) types.push('class_declaration');
  if (source.includes('Client')) types.push('object_creation_expression');
  if (source.includes('onfiguration[')) types.push('element_access_expression');
  if (source.includes('GetEnvironmentVariable')) types.push('method_declaration', 'local_function_statement');
  const nodes = root.descendantsOfType(types);
  const envWrappers: EnvWrappers = new Map();
  for (const fn of nodes) {
    if (fn.type !== 'method_declaration' && fn.type !== 'local_function_statement') continue;
    const name = fn.childForFieldName('name')?.text;
    const params = (fn.childForFieldName('parameters')?.namedChildren ?? [])
      .filter((p) => p.type === 'parameter')
      .map((p) => p.childForFieldName('name')?.text ?? '');
    const body = fn.childForFieldName('body');
    if (!name || !body || params.length === 0 || envWrappers.has(name)) continue;
    for (const call of body.descendantsOfType('invocation_expression')) {
      if (call.childForFieldName('function')?.text !== 'Environment.GetEnvironmentVariable') continue;
      const key = params.indexOf(argExpr(argList(call)[0])?.text ?? '');
      if (key < 0) continue;
      const used = new Set(body.descendantsOfType('identifier').map((i) => i.text));
      const fallback = params.findIndex((p, i) => i !== key && used.has(p));
      envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
      break;
    }
  }
  const families = brokerFamilies(
    nodes
      .filter((n) => n.type === 'using_directive')
      .map((n) => n.namedChildren.find((c) => c.type === 'qualified_name' || c.type === 'identifier')?.text ?? '')
      .map((module) => ({ module })),
  );
  const bindings = new Map<string, Node>();
  for (const d of nodes) {
    if (d.type !== 'variable_declarator') continue;
    const name = d.childForFieldName('name');
    const value = d.namedChildren[d.namedChildren.length - 1];
    if (name && value && !value.equals(name) && !bindings.has(name.text)) bindings.set(name.text, value);
  }
  return { sink, nodes, bindings, envWrappers, families };
}

// ───────────────────────────── values of expressions ─────────────────────────────

/** A port: 8080, "8080", Environment.GetEnvironmentVariable("PORT") ?? "8080", int.Parse(x), a local holding one. */
function evalPort(scope: CSharpScope, node: Node | null | undefined, depth = 0): PortValue | undefined {
  if (!node || depth > 4) return undefined;
  switch (node.type) {
    case 'integer_literal':
      return { port: validPort(Number(node.text)) };
    case 'string_literal':
      return { port: portFromDigits(csString(node) ?? '') };
    case 'parenthesized_expression':
    case 'argument':
      return evalPort(scope, node.namedChild(0), depth + 1);
    case 'identifier': {
      const b = scope.bindings.get(node.text);
      return b ? evalPort(scope, b, depth + 1) : undefined;
    }
    case 'binary_expression':
      return node.childForFieldName('operator')?.text === '??'
        ? mergePort(
            evalPort(scope, node.childForFieldName('left'), depth + 1),
            evalPort(scope, node.childForFieldName('right'), depth + 1),
          )
        : undefined;
    case 'invocation_expression': {
      const fn = node.childForFieldName('function')?.text ?? '';
      const first = argList(node)[0];
      if (fn === 'Environment.GetEnvironmentVariable') {
        const name = csString(first);
        return name ? { envVar: name } : undefined;
      }
      return /^(?:int\.Parse|Int32\.Parse|Convert\.ToInt32)$/.test(fn) ? evalPort(scope, first, depth + 1) : undefined;
    }
    default:
      return undefined;
  }
}

/** "http://0.0.0.0:8080" or $"http://0.0.0.0:{port}". */
function evalUrl(scope: CSharpScope, node: Node | null | undefined): PortValue | undefined {
  const n = node?.type === 'argument' ? node.namedChild(0) : node;
  if (!n) return undefined;
  const plain = csString(n);
  if (plain !== undefined) return /^https?:\/\//.test(plain) ? { port: portFromAddress(plain) } : undefined;
  if (n.type === 'identifier') {
    const b = scope.bindings.get(n.text);
    return b && b.type !== 'identifier' ? evalUrl(scope, b) : undefined;
  }
  const m = /^\$"https?:\/\/[^"{]*:\{(\w+)\}\/?"$/.exec(n.type === 'interpolated_string_expression' ? n.text : '');
  return m ? evalPort(scope, scope.bindings.get(m[1])) : undefined;
}

/** A string an expression stands for: a literal or a local holding one. */
function stringOf(scope: CSharpScope, node: Node | null | undefined, depth = 0): string | undefined {
  const n = argExpr(node ?? undefined);
  if (!n || depth > 3) return undefined;
  const s = csString(n);
  if (s !== undefined || n.type !== 'identifier') return s;
  return stringOf(scope, scope.bindings.get(n.text), depth + 1);
}

/** The environment variables an address expression is built from. */
function envVarsOf(scope: CSharpScope, node: Node | null | undefined, out = new Set<string>(), depth = 0): Set<string> {
  const n = argExpr(node ?? undefined);
  if (!n || depth > 5) return out;
  switch (n.type) {
    case 'identifier':
      envVarsOf(scope, scope.bindings.get(n.text), out, depth + 1);
      break;
    case 'binary_expression':
      envVarsOf(scope, n.childForFieldName('left'), out, depth + 1);
      envVarsOf(scope, n.childForFieldName('right'), out, depth + 1);
      break;
    case 'interpolated_string_expression':
      for (const i of n.descendantsOfType('interpolation')) envVarsOf(scope, i.namedChild(0), out, depth + 1);
      break;
    case 'object_creation_expression': // new Uri(address)
      for (const a of argList(n)) envVarsOf(scope, a, out, depth + 1);
      break;
    case 'element_access_expression': {
      const key = configKey(n);
      if (key) out.add(key);
      break;
    }
    case 'invocation_expression': {
      const fn = n.childForFieldName('function')?.text ?? '';
      const wrapper = scope.envWrappers.get(fn);
      const key =
        fn === 'Environment.GetEnvironmentVariable'
          ? csString(argList(n)[0])
          : wrapper
            ? csString(argList(n)[wrapper.key])
            : undefined;
      if (key) out.add(key);
      break;
    }
  }
  return out;
}

function configKey(node: Node): string | undefined {
  if (!/(?:^|\.)[Cc]onfiguration$/.test(node.childForFieldName('expression')?.text ?? '')) return undefined;
  const key = csString(node.childForFieldName('subscript')?.namedChildren[0]);
  return key !== undefined && /^[A-Z][A-Z0-9_]*$/.test(key) ? key : undefined;
}

// ───────────────────────────── rules, one per fact ─────────────────────────────

/** gRPC served by a class: `class CartService : Cart.CartBase`. */
function grpcServerClassRule({ sink }: CSharpScope, node: Node): void {
  for (const base of node.namedChildren.find((c) => c.type === 'base_list')?.namedChildren ?? []) {
    const served = servedByBase(base);
    const shown = `class ${node.childForFieldName('name')?.text ?? ''} : ${brief(base.text, 50)}`;
    if (served) sink.grpc(served, 'server', base, shown);
  }
}

/** new CartService.CartServiceClient(channel): a generated client, and the channel says what it dials. */
function grpcClientRule(scope: CSharpScope, node: Node): void {
  const type = node.childForFieldName('type');
  const name = lastName(type);
  const owner = type?.type === 'qualified_name' ? lastName(type.childForFieldName('qualifier')) : '';
  const called = /^(\w+)Client$/.exec(name)?.[1];
  const first = argExpr(argList(node)[0]);
  if (!called || !first || (owner !== called && !/channel/i.test(first.text))) return;
  scope.sink.grpc(called, 'client', lineOf(node), `new ${brief(type?.text ?? name, 50)}(…)`);
  const channel = first.type === 'identifier' ? scope.bindings.get(first.text) : first;
  const maker = channel?.type === 'invocation_expression' ? (channel.childForFieldName('function')?.text ?? '') : '';
  if (channel && /ForAddress$/.test(maker)) {
    const address = argList(channel)[0];
    scope.sink.dial(
      envVarsOf(scope, address),
      lineOf(node),
      `GrpcChannel.ForAddress(${brief(address?.text ?? '', 40)})`,
    );
  }
}

/** ASP.NET configuration reads environment variables too: Configuration["REDIS_ADDR"]. */
function configReadRule({ sink }: CSharpScope, node: Node, line: number): void {
  const key = configKey(node);
  if (key) sink.env(key, line);
}

/** Routes by attribute: [HttpGet("health")] under the controller's [Route("api/[controller]")]. */
function routeAttributeRule({ sink }: CSharpScope, node: Node, line: number): void {
  const name = node.childForFieldName('name')?.text ?? '';
  if (!(name in attributeVerbs) || node.parent?.parent?.type === 'class_declaration') return;
  const path = csString(attributeArgs(node)[0]) ?? '';
  sink.route(joinRoute(classRoute(node), path), line, attributeVerbs[name]);
}

function urlRule({ sink }: CSharpScope, node: Node, line: number): void {
  const s = csString(node);
  if (s !== undefined) sink.url(s, line);
}

function importRule({ sink }: CSharpScope, node: Node, line: number): void {
  const name = node.namedChildren.find((c) => c.type === 'qualified_name' || c.type === 'identifier');
  if (name) sink.import(name.text, line);
}

/** An invocation being read: the method's last name (without type arguments) and its arguments. */
interface Invocation {
  call: Node;
  fn: Node | null;
  nameNode: Node | null | undefined;
  method: string;
  list: Node[];
  line: number;
}

function readInvocation(scope: CSharpScope, call: Node, line: number): void {
  const fn = call.childForFieldName('function');
  const nameNode = fn?.type === 'member_access_expression' ? fn.childForFieldName('name') : fn;
  const method = nameNode?.type === 'generic_name' ? (nameNode.namedChild(0)?.text ?? '') : (nameNode?.text ?? '');
  const site: Invocation = { call, fn, nameNode, method, list: argList(call), line };
  if (grpcMapRule(scope, site) || envWrapperCallRule(scope, site)) return;
  brokerRule(scope, site);
  if (envReadRule(scope, site)) return;
  if (mapRouteRule(scope, site)) return;
  listenPortRule(scope, site);
}

/** app.MapGrpcService<CartService>(): the implementation class is usually named after the proto service. */
function grpcMapRule({ sink }: CSharpScope, { call, nameNode, method, line }: Invocation): boolean {
  if (method !== 'MapGrpcService' || nameNode?.type !== 'generic_name') return false;
  const impl = lastName(nameNode.namedChildren.find((c) => c.type === 'type_argument_list')?.namedChild(0));
  const served = /Health/.test(impl) ? GRPC_HEALTH : impl.replace(/Impl$/, '');
  if (served) sink.grpc(served, 'server', line, brief(call.text, 60));
  return true;
}

/** A call of the file's own env wrapper reads the variable it names. */
function envWrapperCallRule({ sink, envWrappers }: CSharpScope, { fn, method, list, line }: Invocation): boolean {
  const wrapper = fn?.type === 'identifier' ? envWrappers.get(method) : undefined;
  if (!wrapper) return false;
  const key = csString(list[wrapper.key]);
  if (key !== undefined && /^[A-Z][A-Z0-9_]*$/.test(key)) {
    sink.env(key, line, wrapper.fallback !== undefined ? csString(list[wrapper.fallback]) : undefined, method);
  }
  return true;
}

/** Broker queues and topics a call sends to or receives from. */
function brokerRule(scope: CSharpScope, { fn, method, list, line }: Invocation): void {
  if (!scope.families.size || !mayBeBrokerCall(method)) return;
  const kw: Record<string, Arg> = {};
  const positional: Arg[] = [];
  for (const a of list) {
    const named = a.type === 'argument' ? a.childForFieldName('name')?.text : undefined;
    if (named) kw[named] = stringOf(scope, a);
    else positional.push(stringOf(scope, a));
  }
  for (const use of brokerUses({ lang: 'csharp', method, args: positional, kw }, scope.families)) {
    const verb = use.role === 'produce' ? 'sends to' : 'receives from';
    scope.sink.topic(use.system, use.name, use.role, line, `${brief(fn?.text ?? method, 30)}(…) ${verb} ${use.name}`);
  }
}

/** Env reads: Environment.GetEnvironmentVariable("X") ?? "default". */
function envReadRule({ sink }: CSharpScope, { call, fn, list, line }: Invocation): boolean {
  if (fn?.text !== 'Environment.GetEnvironmentVariable') return false;
  const name = csString(list[0]);
  if (name) {
    const parent = call.parent;
    const fallback =
      parent?.type === 'binary_expression' && parent.childForFieldName('operator')?.text === '??'
        ? csString(parent.childForFieldName('right'))
        : undefined;
    sink.env(name, line, fallback);
  }
  return true;
}

/** Minimal API routes: app.MapGet("/health", ...). */
function mapRouteRule({ sink }: CSharpScope, { method, list, line }: Invocation): boolean {
  if (!(method in mapVerbs) || list.length < 1) return false;
  const path = csString(list[0]);
  if (path !== undefined) sink.route(path, line, mapVerbs[method]);
  return true;
}

/** app.Run("http://0.0.0.0:8080"), builder.WebHost.UseUrls("http://*:5000"), app.Urls.Add(...), Kestrel Listen*. */
function listenPortRule(scope: CSharpScope, { call, fn, method, list, line }: Invocation): void {
  if ((method === 'Run' || method === 'UseUrls' || method === 'Add') && list.length >= 1) {
    if (method === 'Add' && !/Urls$/.test(fn?.childForFieldName('expression')?.text ?? '')) return;
    scope.sink.port(evalUrl(scope, list[0]), line, brief(call.text, 60));
  } else if (/^(?:ListenAnyIP|ListenLocalhost|Listen)$/.test(method) && list.length >= 1) {
    scope.sink.port(evalPort(scope, method === 'Listen' ? list[1] : list[0]), line, brief(call.text, 60));
  }
}
