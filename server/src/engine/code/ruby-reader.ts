// Ruby: sinatra / rails route calls, `set :port`, puma `port`, ENV reads, require.
import type { Node } from 'web-tree-sitter';
import { brief, FactSink, lineOf, portFromDigits, validPort } from './fact-sink';

const verbs = new Set(['get', 'post', 'put', 'delete', 'patch', 'head', 'options']);

function rubyString(node: Node | null | undefined): string | undefined {
  if (node?.type !== 'string' || node.namedChildren.some((c) => c.type === 'interpolation')) return undefined;
  return node.namedChildren.map((c) => c.text).join('');
}

function argList(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren ?? [];
}

function portValue(node: Node | null | undefined): number | undefined {
  if (!node) return undefined;
  if (node.type === 'integer') return validPort(Number(node.text.replace(/_/g, '')));
  const s = rubyString(node);
  return s === undefined ? undefined : portFromDigits(s);
}

export function readRuby(root: Node, sink: FactSink, source: string): void {
  const types = ['call', 'element_reference'];
  if (source.includes('://')) types.push('string');
  for (const node of root.descendantsOfType(types)) {
    if (node.type === 'element_reference') {
      // ENV['X']
      if (node.childForFieldName('object')?.text === 'ENV') {
        const name = rubyString(node.namedChildren[1]);
        if (name) sink.env(name, lineOf(node));
      }
      continue;
    }
    if (node.type === 'string') {
      const s = rubyString(node);
      if (s !== undefined) sink.url(s, lineOf(node));
      continue;
    }
    const receiver = node.childForFieldName('receiver')?.text;
    const method = node.childForFieldName('method')?.text ?? '';
    const list = argList(node);
    const line = lineOf(node);
    if (receiver === 'ENV' && method === 'fetch') {
      const name = rubyString(list[0]);
      const block = node.childForFieldName('block');
      const fallback = list[1] ?? block?.descendantsOfType(['integer', 'string'])[0];
      const def = fallback ? rubyString(fallback) ?? (fallback.type === 'integer' ? fallback.text : undefined) : undefined;
      if (name) sink.env(name, line, def);
      continue;
    }
    if (receiver) continue;
    if (method === 'require' || method === 'require_relative') {
      const module = rubyString(list[0]);
      if (module) sink.import(method === 'require_relative' ? `./${module}` : module, line);
    } else if (method === 'set' && list[0]?.text === ':port') {
      sink.port({ port: portValue(list[1]) }, line, brief(node.text, 60)); // sinatra
    } else if (method === 'port' && list.length === 1) {
      // puma config: port ENV.fetch("PORT") { 3000 }
      const a = list[0];
      if (a.type === 'call' && a.childForFieldName('receiver')?.text === 'ENV') {
        const name = rubyString(argList(a)[0]);
        const block = a.childForFieldName('block');
        const fallback = argList(a)[1] ?? block?.descendantsOfType(['integer', 'string'])[0];
        sink.port({ port: portValue(fallback), envVar: name }, line, brief(node.text, 60));
      } else {
        sink.port({ port: portValue(a) }, line, brief(node.text, 60));
      }
    } else if (verbs.has(method) && list.length >= 1) {
      // sinatra: get '/health' do ... end ; rails: get 'up' => 'rails/health#show' / get '/health', to: 'x#y'
      const first = list[0];
      const path = first.type === 'pair' ? rubyString(first.childForFieldName('key')) : rubyString(first);
      const routed = node.childForFieldName('block') || first.type === 'pair' || list.some((a) => a.type === 'pair');
      if (path !== undefined && routed) sink.route(path.startsWith('/') ? path : `/${path}`, line, method);
    }
  }
}
