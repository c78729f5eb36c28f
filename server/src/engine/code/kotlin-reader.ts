// Kotlin: Ktor's embeddedServer port and routing verbs, System.getenv reads (with `?.toInt() ?: 8080` defaults),
// Spring mapping annotations, URL literals and imports.
import type { Node } from 'web-tree-sitter';
import { FactSink, type PortValue, validPort } from './fact-sink';

const verbs: Record<string, string> = {
  get: 'GET',
  post: 'POST',
  put: 'PUT',
  delete: 'DELETE',
  patch: 'PATCH',
  head: 'HEAD',
};
const mappings: Record<string, string | undefined> = {
  GetMapping: 'GET',
  PostMapping: 'POST',
  PutMapping: 'PUT',
  DeleteMapping: 'DELETE',
  PatchMapping: 'PATCH',
  RequestMapping: undefined,
};

/** A plain string literal's text; an interpolated one (`"$x"`) says nothing fixed. */
function kotlinString(node: Node | null | undefined): string | undefined {
  if (node?.type !== 'string_literal' || node.namedChildren.some((c) => c.type !== 'string_content')) return undefined;
  return node.namedChildren.map((c) => c.text).join('');
}

function callee(call: Node): Node | undefined {
  return call.namedChildren[0] ?? undefined;
}

function valueArguments(call: Node): Node[] {
  const list = call.namedChildren.find((c) => c.type === 'value_arguments');
  return list?.namedChildren.filter((c) => c.type === 'value_argument') ?? [];
}

/** `name = value` arguments carry their label as a first identifier child, then the value. */
function argument(arg: Node): { label?: string; value: Node | undefined } {
  const kids = arg.namedChildren;
  if (kids.length >= 2 && kids[0].type === 'identifier') return { label: kids[0].text, value: kids[kids.length - 1] };
  return { value: kids[kids.length - 1] };
}

/** `System.getenv("X")` → X. */
function getenvName(node: Node | null | undefined): string | undefined {
  if (node?.type !== 'call_expression') return undefined;
  const target = callee(node);
  if (target?.type !== 'navigation_expression' || target.text.replace(/\s+/g, '') !== 'System.getenv') return undefined;
  return kotlinString(argument(valueArguments(node)[0] ?? node).value);
}

/** `8080`, `System.getenv("PORT")?.toInt() ?: 8080`, `System.getenv("PORT").toInt()`. */
function portValue(node: Node | undefined): PortValue | undefined {
  if (!node) return undefined;
  if (node.type === 'number_literal') {
    const port = validPort(Number(node.text.replace(/_/g, '')));
    return port === undefined ? undefined : { port };
  }
  const env = node
    .descendantsOfType('call_expression')
    .map((c) => getenvName(c))
    .find((n) => n !== undefined);
  const numbers = node.descendantsOfType('number_literal').map((n) => validPort(Number(n.text.replace(/_/g, ''))));
  const port = numbers.find((n) => n !== undefined);
  return env || port ? { port, envVar: env } : undefined;
}

export function readKotlin(root: Node, sink: FactSink): void {
  for (const imp of root.descendantsOfType('import')) {
    const name = imp.namedChildren.find((c) => c.type === 'qualified_identifier')?.text;
    if (name) sink.import(name, imp);
  }
  for (const s of root.descendantsOfType('string_literal')) {
    const text = kotlinString(s);
    if (text?.includes('://')) sink.url(text, s);
  }
  for (const call of root.descendantsOfType('call_expression')) {
    const target = callee(call);
    const name = target?.type === 'identifier' ? target.text : undefined;
    const env = getenvName(call);
    if (env) sink.env(env, call);
    if (name === 'embeddedServer') {
      const args = valueArguments(call).map(argument);
      const port = args.find((a) => a.label === 'port') ?? (args[1] && !args[1].label ? args[1] : undefined);
      sink.port(portValue(port?.value), call, `embeddedServer(port = ${port?.value?.text ?? '?'})`);
    } else if (name && verbs[name]) {
      const path = kotlinString(argument(valueArguments(call)[0] ?? call).value);
      if (path !== undefined) sink.route(path, call, verbs[name]);
    }
  }
  for (const annotation of root.descendantsOfType('annotation')) {
    const type = annotation.namedChildren.find((c) => c.type === 'constructor_invocation' || c.type === 'user_type');
    const head = type?.type === 'constructor_invocation' ? type.namedChildren[0] : type;
    const kind = head?.text.replace(/^.*\./, '');
    if (!kind || !(kind in mappings)) continue;
    const strings = annotation.descendantsOfType('string_literal').map((s) => kotlinString(s));
    const path = strings.find((s) => s !== undefined);
    if (path !== undefined) sink.route(path, annotation, mappings[kind]);
  }
}
