// PHP: Laravel/Slim/Lumen route calls, Symfony #[Route] attributes, getenv/$_ENV/env() reads, `use` imports.
import type { Node } from 'web-tree-sitter';
import { FactSink, joinRoute, lineOf } from './fact-sink';

const verbs = new Set(['get', 'post', 'put', 'delete', 'patch', 'options', 'any', 'map']);

function phpString(node: Node | null | undefined): string | undefined {
  const n = node?.type === 'argument' ? node.namedChildren[node.namedChildren.length - 1] : node;
  if (!n || (n.type !== 'string' && n.type !== 'encapsed_string')) return undefined;
  if (n.namedChildren.some((c) => c.type !== 'string_content' && c.type !== 'string_value')) return undefined;
  return n.text.slice(1, -1);
}

function argList(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren ?? [];
}

export function readPhp(root: Node, sink: FactSink, source: string): void {
  const types = [
    'scoped_call_expression',
    'member_call_expression',
    'function_call_expression',
    'subscript_expression',
    'attribute',
    'namespace_use_clause',
  ];
  if (source.includes('://')) types.push('string', 'encapsed_string');
  if (source.includes('getenv') || source.includes('$_ENV')) types.push('function_definition');
  if (source.includes('Client')) types.push('object_creation_expression');
  const nodes = root.descendantsOfType(types);
  // Functions this file defines around getenv($name) / $_ENV[$name]: `env_or('NAME', 'default')` reads NAME.
  const envWrappers = new Map<string, { key: number; fallback?: number }>();
  for (const fn of nodes) {
    if (fn.type !== 'function_definition') continue;
    const name = fn.childForFieldName('name')?.text;
    const params = (fn.childForFieldName('parameters')?.namedChildren ?? []).map(
      (p) => p.childForFieldName('name')?.text ?? '',
    );
    const body = fn.childForFieldName('body');
    if (!name || !body || params.length === 0) continue;
    for (const read of body.descendantsOfType(['function_call_expression', 'subscript_expression'])) {
      const fnName = read.childForFieldName('function')?.text ?? '';
      let keyNode: Node | null | undefined;
      if (read.type === 'subscript_expression') {
        if (read.namedChild(0)?.text === '$_ENV') keyNode = read.namedChild(1);
      } else if (/^(?:getenv|env)$/.test(fnName)) keyNode = argList(read)[0]?.namedChild(0);
      const key = keyNode?.type === 'variable_name' ? params.indexOf(keyNode.text) : -1;
      if (key < 0) continue;
      const used = new Set(body.descendantsOfType('variable_name').map((v) => v.text));
      const fallback = params.findIndex((p, i) => i !== key && used.has(p));
      envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
      break;
    }
  }
  for (const node of nodes) {
    const line = lineOf(node);
    switch (node.type) {
      case 'object_creation_expression': {
        // new \Hipstershop\CartServiceClient($addr, ['credentials' => ...]): a generated gRPC client.
        const type = node.namedChildren.find((c) => c.type === 'qualified_name' || c.type === 'name');
        const called = /(?:^|\\)(\w+)Client$/.exec(type?.text ?? '')?.[1];
        const args = node.namedChildren.find((c) => c.type === 'arguments');
        if (called && /credentials/.test(args?.text ?? '')) sink.grpc(called, 'client', line, `new ${type!.text}(…)`);
        break;
      }
      case 'scoped_call_expression':
      case 'member_call_expression': {
        // Route::get('/health', ...) / $app->get('/health', ...)
        const method = node.childForFieldName('name')?.text.toLowerCase() ?? '';
        const list = argList(node);
        const path = phpString(list[0]);
        if (verbs.has(method) && list.length >= 2 && path !== undefined) {
          sink.route(path.startsWith('/') ? path : `/${path}`, line, /^(?:any|map)$/.test(method) ? undefined : method);
        }
        break;
      }
      case 'function_call_expression': {
        const fn = node.childForFieldName('function')?.text ?? '';
        const list = argList(node);
        if (fn === 'getenv' || fn === 'env') {
          const name = phpString(list[0]);
          if (name) sink.env(name, line, phpString(list[1]));
        }
        const wrapper = envWrappers.get(fn);
        const wrapped = wrapper ? phpString(list[wrapper.key]) : undefined;
        if (wrapper && wrapped !== undefined && /^[A-Z][A-Z0-9_]*$/.test(wrapped)) {
          sink.env(wrapped, line, wrapper.fallback !== undefined ? phpString(list[wrapper.fallback]) : undefined, fn);
        }
        break;
      }
      case 'function_definition':
        break;
      case 'subscript_expression': {
        const target = node.namedChild(0)?.text;
        if (target === '$_ENV' || target === '$_SERVER') {
          const name = phpString(node.namedChild(1));
          if (name && (target === '$_ENV' || /^[A-Z][A-Z0-9_]*$/.test(name))) sink.env(name, line);
        }
        break;
      }
      case 'attribute': {
        // #[Route('/health', methods: ['GET'])]
        if (node.namedChild(0)?.text.replace(/^.*\\/, '') !== 'Route') break;
        const list = node.childForFieldName('parameters')?.namedChildren ?? [];
        const path = phpString(list[0]);
        const methods = list.find((a) => a.namedChild(0)?.type === 'name' && a.namedChild(0)?.text === 'methods');
        const verb = methods?.descendantsOfType(['string'])[0]?.text.slice(1, -1);
        if (path !== undefined) sink.route(joinRoute('', path), line, verb);
        break;
      }
      case 'string':
      case 'encapsed_string': {
        const s = phpString(node);
        if (s !== undefined) sink.url(s, line);
        break;
      }
      case 'namespace_use_clause': {
        const name = node.namedChildren.find((c) => c.type === 'qualified_name' || c.type === 'name');
        if (name) sink.import(name.text, line);
        break;
      }
    }
  }
}
