// C#: ASP.NET Core minimal API routes, [Http*]/[Route] attributes, Kestrel URLs and Listen* ports, env reads, usings.
import type { Node } from 'web-tree-sitter';
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
  const nodes = root.descendantsOfType(types);
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

  for (const node of nodes) {
    const line = lineOf(node);
    switch (node.type) {
      case 'invocation_expression': readInvocation(node, line); break;
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

  function readInvocation(call: Node, line: number): void {
    const fn = call.childForFieldName('function');
    const method = fn?.type === 'member_access_expression' ? fn.childForFieldName('name')?.text ?? '' : fn?.text ?? '';
    const list = argList(call);
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
