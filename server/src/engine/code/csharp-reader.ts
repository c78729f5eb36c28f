// C#: ASP.NET Core minimal API routes, [Http*]/[Route] attributes, Kestrel URLs and Listen* ports, env reads, usings.
import type { Node } from 'web-tree-sitter';
import { type Arg, brokerFamilies, brokerUses, mayBeBrokerCall } from './broker-calls';
import { GRPC_HEALTH } from './code-facts';
import { brief, FactSink, joinRoute, lineOf, mergePort, portFromAddress, portFromDigits, validPort, type PortValue } from './fact-sink';

const mapVerbs: Record<string, string | undefined> = {
  MapGet: 'GET', MapPost: 'POST', MapPut: 'PUT', MapDelete: 'DELETE', MapPatch: 'PATCH', MapHealthChecks: 'GET',
  MapMethods: undefined,
};
const attributeVerbs: Record<string, string | undefined> = {
  HttpGet: 'GET', HttpPost: 'POST', HttpPut: 'PUT', HttpDelete: 'DELETE', HttpPatch: 'PATCH', Route: undefined,
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

export function readCSharp(root: Node, sink: FactSink, source: string): void {
  const types = ['invocation_expression', 'attribute', 'using_directive', 'variable_declarator'];
  if (source.includes('://')) types.push('string_literal', 'verbatim_string_literal');
  if (source.includes('Base')) types.push('class_declaration');
  if (source.includes('Client')) types.push('object_creation_expression');
  if (source.includes('onfiguration[')) types.push('element_access_expression');
  if (source.includes('GetEnvironmentVariable')) types.push('method_declaration', 'local_function_statement');
  const nodes = root.descendantsOfType(types);
  // Methods this file defines around Environment.GetEnvironmentVariable(parameter): `Env("NAME")` reads NAME.
  const envWrappers = new Map<string, { key: number; fallback?: number }>();
  for (const fn of nodes) {
    if (fn.type !== 'method_declaration' && fn.type !== 'local_function_statement') continue;
    const name = fn.childForFieldName('name')?.text;
    const params = (fn.childForFieldName('parameters')?.namedChildren ?? []).filter((p) => p.type === 'parameter')
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
  const families = brokerFamilies(nodes.filter((n) => n.type === 'using_directive')
    .map((n) => n.namedChildren.find((c) => c.type === 'qualified_name' || c.type === 'identifier')?.text ?? '')
    .map((module) => ({ module })));
  const bindings = new Map<string, Node>();
  for (const d of nodes) {
    if (d.type !== 'variable_declarator') continue;
    const name = d.childForFieldName('name');
    const value = d.namedChildren[d.namedChildren.length - 1];
    if (name && value && !value.equals(name) && !bindings.has(name.text)) bindings.set(name.text, value);
  }

  // A port: 8080, "8080", Environment.GetEnvironmentVariable("PORT") ?? "8080", int.Parse(x), a local holding one.
  const evalPort = (node: Node | null | undefined, depth = 0): PortValue | undefined => {
    if (!node || depth > 4) return undefined;
    switch (node.type) {
      case 'integer_literal': return { port: validPort(Number(node.text)) };
      case 'string_literal': return { port: portFromDigits(csString(node) ?? '') };
      case 'parenthesized_expression': case 'argument': return evalPort(node.namedChild(0), depth + 1);
      case 'identifier': {
        const b = bindings.get(node.text);
        return b ? evalPort(b, depth + 1) : undefined;
      }
      case 'binary_expression':
        return node.childForFieldName('operator')?.text === '??'
          ? mergePort(evalPort(node.childForFieldName('left'), depth + 1), evalPort(node.childForFieldName('right'), depth + 1))
          : undefined;
      case 'invocation_expression': {
        const fn = node.childForFieldName('function')?.text ?? '';
        const first = argList(node)[0];
        if (fn === 'Environment.GetEnvironmentVariable') {
          const name = csString(first);
          return name ? { envVar: name } : undefined;
        }
        return /^(?:int\.Parse|Int32\.Parse|Convert\.ToInt32)$/.test(fn) ? evalPort(first, depth + 1) : undefined;
      }
      default: return undefined;
    }
  };

  // "http://0.0.0.0:8080" or $"http://0.0.0.0:{port}"
  const evalUrl = (node: Node | null | undefined): PortValue | undefined => {
    const n = node?.type === 'argument' ? node.namedChild(0) : node;
    if (!n) return undefined;
    const plain = csString(n);
    if (plain !== undefined) return /^https?:\/\//.test(plain) ? { port: portFromAddress(plain) } : undefined;
    if (n.type === 'identifier') {
      const b = bindings.get(n.text);
      return b && b.type !== 'identifier' ? evalUrl(b) : undefined;
    }
    const m = /^\$"https?:\/\/[^"{]*:\{(\w+)\}\/?"$/.exec(n.type === 'interpolated_string_expression' ? n.text : '');
    return m ? evalPort(bindings.get(m[1])) : undefined;
  };

  /** A string an expression stands for: a literal or a local holding one. */
  const stringOf = (node: Node | null | undefined, depth = 0): string | undefined => {
    const n = argExpr(node ?? undefined);
    if (!n || depth > 3) return undefined;
    const s = csString(n);
    if (s !== undefined || n.type !== 'identifier') return s;
    return stringOf(bindings.get(n.text), depth + 1);
  };

  /** The environment variables an address expression is built from. */
  const envVarsOf = (node: Node | null | undefined, out = new Set<string>(), depth = 0): Set<string> => {
    const n = argExpr(node ?? undefined);
    if (!n || depth > 5) return out;
    switch (n.type) {
      case 'identifier': envVarsOf(bindings.get(n.text), out, depth + 1); break;
      case 'binary_expression':
        envVarsOf(n.childForFieldName('left'), out, depth + 1);
        envVarsOf(n.childForFieldName('right'), out, depth + 1);
        break;
      case 'interpolated_string_expression':
        for (const i of n.descendantsOfType('interpolation')) envVarsOf(i.namedChild(0), out, depth + 1);
        break;
      case 'object_creation_expression': // new Uri(address)
        for (const a of argList(n)) envVarsOf(a, out, depth + 1);
        break;
      case 'element_access_expression': {
        const key = configKey(n);
        if (key) out.add(key);
        break;
      }
      case 'invocation_expression': {
        const fn = n.childForFieldName('function')?.text ?? '';
        const wrapper = envWrappers.get(fn);
        const key = fn === 'Environment.GetEnvironmentVariable' ? csString(argList(n)[0])
          : wrapper ? csString(argList(n)[wrapper.key]) : undefined;
        if (key) out.add(key);
        break;
      }
    }
    return out;
  };

  for (const node of nodes) {
    const line = lineOf(node);
    switch (node.type) {
      case 'invocation_expression': readInvocation(node, line); break;
      case 'class_declaration': {
        for (const base of node.namedChildren.find((c) => c.type === 'base_list')?.namedChildren ?? []) {
          const served = servedByBase(base);
          const shown = `class ${node.childForFieldName('name')?.text ?? ''} : ${brief(base.text, 50)}`;
          if (served) sink.grpc(served, 'server', base, shown);
        }
        break;
      }
      case 'object_creation_expression': readCreation(node); break;
      case 'element_access_expression': {
        // ASP.NET configuration reads environment variables too: Configuration["REDIS_ADDR"]
        const key = configKey(node);
        if (key) sink.env(key, line);
        break;
      }
      case 'attribute': {
        const name = node.childForFieldName('name')?.text ?? '';
        if (!(name in attributeVerbs) || node.parent?.parent?.type === 'class_declaration') break;
        const path = csString(attributeArgs(node)[0]) ?? '';
        const prefix = classRoute(node);
        sink.route(joinRoute(prefix, path), line, attributeVerbs[name]);
        break;
      }
      case 'string_literal': case 'verbatim_string_literal': {
        const s = csString(node);
        if (s !== undefined) sink.url(s, line);
        break;
      }
      case 'using_directive': {
        const name = node.namedChildren.find((c) => c.type === 'qualified_name' || c.type === 'identifier');
        if (name) sink.import(name.text, line);
        break;
      }
    }
  }

  function configKey(node: Node): string | undefined {
    if (!/(?:^|\.)[Cc]onfiguration$/.test(node.childForFieldName('expression')?.text ?? '')) return undefined;
    const key = csString(node.childForFieldName('subscript')?.namedChildren[0]);
    return key !== undefined && /^[A-Z][A-Z0-9_]*$/.test(key) ? key : undefined;
  }

  // new CartService.CartServiceClient(channel): a generated client, and the channel says what it dials.
  function readCreation(node: Node): void {
    const type = node.childForFieldName('type');
    const name = lastName(type);
    const owner = type?.type === 'qualified_name' ? lastName(type.childForFieldName('qualifier')) : '';
    const called = /^(\w+)Client$/.exec(name)?.[1];
    const first = argExpr(argList(node)[0]);
    if (!called || !first || (owner !== called && !/channel/i.test(first.text))) return;
    sink.grpc(called, 'client', lineOf(node), `new ${brief(type?.text ?? name, 50)}(…)`);
    const channel = first.type === 'identifier' ? bindings.get(first.text) : first;
    const maker = channel?.type === 'invocation_expression' ? channel.childForFieldName('function')?.text ?? '' : '';
    if (channel && /ForAddress$/.test(maker)) {
      const address = argList(channel)[0];
      sink.dial(envVarsOf(address), lineOf(node), `GrpcChannel.ForAddress(${brief(address?.text ?? '', 40)})`);
    }
  }

  function readInvocation(call: Node, line: number): void {
    const fn = call.childForFieldName('function');
    const nameNode = fn?.type === 'member_access_expression' ? fn.childForFieldName('name') : fn;
    const method = nameNode?.type === 'generic_name' ? nameNode.namedChild(0)?.text ?? '' : nameNode?.text ?? '';
    const list = argList(call);
    if (method === 'MapGrpcService' && nameNode?.type === 'generic_name') {
      // app.MapGrpcService<CartService>(): the implementation class is usually named after the proto service.
      const impl = lastName(nameNode.namedChildren.find((c) => c.type === 'type_argument_list')?.namedChild(0));
      const served = /Health/.test(impl) ? GRPC_HEALTH : impl.replace(/Impl$/, '');
      if (served) sink.grpc(served, 'server', line, brief(call.text, 60));
      return;
    }
    const wrapper = fn?.type === 'identifier' ? envWrappers.get(method) : undefined;
    if (wrapper) {
      const key = csString(list[wrapper.key]);
      if (key !== undefined && /^[A-Z][A-Z0-9_]*$/.test(key)) {
        sink.env(key, line, wrapper.fallback !== undefined ? csString(list[wrapper.fallback]) : undefined, method);
      }
      return;
    }
    if (families.size && mayBeBrokerCall(method)) {
      const kw: Record<string, Arg> = {};
      const positional: Arg[] = [];
      for (const a of list) {
        const named = a.type === 'argument' ? a.childForFieldName('name')?.text : undefined;
        if (named) kw[named] = stringOf(a);
        else positional.push(stringOf(a));
      }
      for (const use of brokerUses({ lang: 'csharp', method, args: positional, kw }, families)) {
        const verb = use.role === 'produce' ? 'sends to' : 'receives from';
        sink.topic(use.system, use.name, use.role, line, `${brief(fn?.text ?? method, 30)}(…) ${verb} ${use.name}`);
      }
    }
    if (fn?.text === 'Environment.GetEnvironmentVariable') {
      const name = csString(list[0]);
      if (name) {
        const parent = call.parent;
        const fallback = parent?.type === 'binary_expression' && parent.childForFieldName('operator')?.text === '??'
          ? csString(parent.childForFieldName('right')) : undefined;
        sink.env(name, line, fallback);
      }
    } else if (method in mapVerbs && list.length >= 1) {
      const path = csString(list[0]);
      if (path !== undefined) sink.route(path, line, mapVerbs[method]);
    } else if ((method === 'Run' || method === 'UseUrls' || method === 'Add') && list.length >= 1) {
      // app.Run("http://0.0.0.0:8080"), builder.WebHost.UseUrls("http://*:5000"), app.Urls.Add("http://+:80")
      if (method === 'Add' && !/Urls$/.test(fn?.childForFieldName('expression')?.text ?? '')) return;
      sink.port(evalUrl(list[0]), line, brief(call.text, 60));
    } else if (/^(?:ListenAnyIP|ListenLocalhost|Listen)$/.test(method) && list.length >= 1) {
      sink.port(evalPort(method === 'Listen' ? list[1] : list[0]), line, brief(call.text, 60));
    }
  }
}
