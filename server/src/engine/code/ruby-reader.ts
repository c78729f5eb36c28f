// Ruby: sinatra / rails route calls, `set :port`, puma `port`, ENV reads, require.
import type { Node } from 'web-tree-sitter';
import { GRPC_HEALTH } from './code-facts';
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

/** `Demo::CartService::Stub` / `Demo::CartService::Service` → [CartService, Stub]. */
function grpcConstant(node: Node | null | undefined): [string, string] | undefined {
  if (node?.type !== 'scope_resolution') return undefined;
  const last = node.childForFieldName('name')?.text ?? '';
  const scope = node.childForFieldName('scope');
  const owner = scope?.type === 'scope_resolution' ? scope.childForFieldName('name')?.text : scope?.text;
  return owner && (last === 'Stub' || last === 'Service') ? [owner, last] : undefined;
}

export function readRuby(root: Node, sink: FactSink, source: string): void {
  const types = ['call', 'element_reference'];
  if (source.includes('://')) types.push('string');
  if (source.includes('ENV')) types.push('method');
  if (source.includes('::Service')) types.push('class');
  const nodes = root.descendantsOfType(types);
  // Methods this file defines around ENV[name] / ENV.fetch(name): `env("NAME", "default")` reads NAME.
  const envWrappers = new Map<string, { key: number; fallback?: number }>();
  for (const def of nodes) {
    if (def.type !== 'method') continue;
    const name = def.childForFieldName('name')?.text;
    const params = (def.childForFieldName('parameters')?.namedChildren ?? []).map(
      (p) => (p.type === 'identifier' ? p : p.childForFieldName('name'))?.text ?? '',
    );
    if (!name || params.length === 0 || envWrappers.has(name)) continue;
    for (const read of def.descendantsOfType(['call', 'element_reference'])) {
      const isEnv =
        read.type === 'call'
          ? read.childForFieldName('receiver')?.text === 'ENV' && read.childForFieldName('method')?.text === 'fetch'
          : read.childForFieldName('object')?.text === 'ENV';
      const keyNode = read.type === 'call' ? argList(read)[0] : read.namedChildren[1];
      const key = isEnv && keyNode?.type === 'identifier' ? params.indexOf(keyNode.text) : -1;
      if (key < 0) continue;
      const used = new Set(def.descendantsOfType('identifier').map((i) => i.text));
      const fallback = params.findIndex((p, i) => i !== key && p !== '' && used.has(p));
      envWrappers.set(name, fallback >= 0 ? { key, fallback } : { key });
      break;
    }
  }
  for (const node of nodes) {
    if (node.type === 'method') continue;
    if (node.type === 'class') {
      // class CartServer < Demo::CartService::Service
      const base = node.childForFieldName('superclass')?.namedChild(0);
      const served = grpcConstant(base);
      if (served?.[1] === 'Service') sink.grpc(served[0], 'server', lineOf(node), `< ${brief(base!.text, 50)}`);
      continue;
    }
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
    const stub = grpcConstant(node.childForFieldName('receiver'));
    if (method === 'new' && stub?.[1] === 'Stub') {
      sink.grpc(stub[0], 'client', line, `${brief(node.childForFieldName('receiver')!.text, 50)}.new`);
      continue;
    }
    if (method === 'new' && /^(?:Grpc::Health::Checker|Grpc::Health::V1::Health::Service)$/.test(receiver ?? '')) {
      sink.grpc(GRPC_HEALTH, 'server', line, `${receiver}.new`);
      continue;
    }
    const wrapper = receiver ? undefined : envWrappers.get(method);
    const wrapped = wrapper ? rubyString(list[wrapper.key]) : undefined;
    if (wrapper && wrapped !== undefined && /^[A-Z][A-Z0-9_]*$/.test(wrapped)) {
      const fallback = wrapper.fallback !== undefined ? rubyString(list[wrapper.fallback]) : undefined;
      sink.env(wrapped, line, fallback, method);
      continue;
    }
    if (receiver === 'ENV' && method === 'fetch') {
      const name = rubyString(list[0]);
      const block = node.childForFieldName('block');
      const fallback = list[1] ?? block?.descendantsOfType(['integer', 'string'])[0];
      const def = fallback
        ? (rubyString(fallback) ?? (fallback.type === 'integer' ? fallback.text : undefined))
        : undefined;
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
