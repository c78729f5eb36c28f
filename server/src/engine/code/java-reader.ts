// Java: Spring / JAX-RS route annotations (with class-level prefixes), System.getenv, a few embedded-server ports.
import type { Node } from 'web-tree-sitter';
import { brief, FactSink, joinRoute, lineOf, validPort } from './fact-sink';

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

export function readJava(root: Node, sink: FactSink, source: string): void {
  const types = ['method_declaration', 'method_invocation', 'object_creation_expression', 'import_declaration'];
  if (source.includes('://')) types.push('string_literal');
  const nodes = root.descendantsOfType(types);
  for (const node of nodes) {
    switch (node.type) {
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

  function readInvocation(call: Node): void {
    const object = call.childForFieldName('object')?.text;
    const name = call.childForFieldName('name')?.text;
    const list = call.childForFieldName('arguments')?.namedChildren ?? [];
    const line = lineOf(call);
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
