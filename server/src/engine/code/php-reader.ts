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
  const types = ['scoped_call_expression', 'member_call_expression', 'function_call_expression', 'subscript_expression',
    'attribute', 'namespace_use_clause'];
  if (source.includes('://')) types.push('string', 'encapsed_string');
  for (const node of root.descendantsOfType(types)) {
    const line = lineOf(node);
    switch (node.type) {
      case 'scoped_call_expression': case 'member_call_expression': {
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
        break;
      }
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
      case 'string': case 'encapsed_string': {
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
