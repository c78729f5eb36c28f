// A compose file read with positions: service keys, depends_on entries, environment values, ports.
// `yaml` (already the engine's YAML parser) keeps source ranges on every node, which gives exact diagnostics.
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { bytesOverCap, overCapText } from './document-size';

export interface Span {
  start: number;
  end: number;
}

export interface ComposeDependsOn extends Span {
  name: string;
}
export interface ComposeEnv {
  name: string;
  value: string;
  valueSpan: Span;
  keySpan: Span;
}
export interface ComposePort extends Span {
  text: string;
  host?: number;
  container?: number;
}

export interface ComposeService {
  name: string;
  key: Span;
  /** Whole `name: {...}` entry. */
  entry: Span;
  build?: string;
  image?: string;
  dependsOn: ComposeDependsOn[];
  environment: ComposeEnv[];
  ports: ComposePort[];
}

export interface ComposeDocument {
  services: ComposeService[];
  errors: { message: string; span: Span }[];
  /** Offset just after the last service entry, where a new service can be inserted; undefined without a services map. */
  servicesEnd?: number;
  /** Indentation of service keys inside `services:`. */
  serviceIndent: string;
}

// Hover and CodeLens ask about the same open text many times between edits: keep the last few parses.
const recent = new Map<string, ComposeDocument>();

export function parseCompose(text: string): ComposeDocument {
  // A YAML tree of a many-MB file costs seconds and a lot of memory: past the engine's cap it is not built at all.
  const tooLarge = bytesOverCap(text);
  if (tooLarge !== undefined) {
    const message = `compose file too large to analyse (${overCapText(tooLarge)}); it was not parsed`;
    return { services: [], errors: [{ message, span: { start: 0, end: 1 } }], serviceIndent: '  ' };
  }
  const hit = recent.get(text);
  if (hit) return hit;
  const parsed = parseComposeText(text);
  rememberCompose(text, parsed);
  return parsed;
}

/** Keeps a parse made elsewhere (the language server's worker thread) for the next parseCompose of the same text. */
export function rememberCompose(text: string, doc: ComposeDocument): void {
  recent.set(text, doc);
  if (recent.size > 8) recent.delete(recent.keys().next().value!);
}

/** True when parseCompose(text) would answer from its cache. */
export function composeParsed(text: string): boolean {
  return recent.has(text);
}

function parseComposeText(text: string): ComposeDocument {
  const doc = parseDocument(text, { keepSourceTokens: false, uniqueKeys: false });
  const out: ComposeDocument = { services: [], errors: [], serviceIndent: '  ' };
  for (const e of doc.errors)
    out.errors.push({
      message: e.message.split('\n')[0],
      span: { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) },
    });
  const root = doc.contents;
  if (!isMap(root)) return out;
  const servicesPair = root.items.find((p) => isScalar(p.key) && p.key.value === 'services');
  if (!servicesPair || !isMap(servicesPair.value)) return out;
  const services = servicesPair.value as YAMLMap;
  for (const pair of services.items) {
    if (!isScalar(pair.key) || !pair.key.range) continue;
    const key = span(pair.key);
    const svc: ComposeService = {
      name: String(pair.key.value),
      key,
      entry: { start: key.start, end: endOf(pair) },
      dependsOn: [],
      environment: [],
      ports: [],
    };
    if (isMap(pair.value)) readService(pair.value, svc, text);
    out.services.push(svc);
  }
  if (services.range) out.servicesEnd = services.range[1];
  const first = out.services[0];
  if (first) {
    const lineStart = text.lastIndexOf('\n', first.key.start - 1) + 1;
    out.serviceIndent = text.slice(lineStart, first.key.start);
  }
  return out;
}

function readService(map: YAMLMap, svc: ComposeService, text: string): void {
  for (const p of map.items) {
    if (!isScalar(p.key)) continue;
    const k = String(p.key.value);
    const v = p.value as Node | null;
    if (k === 'build') {
      if (isScalar(v)) svc.build = String(v.value);
      else if (isMap(v)) {
        const ctx = v.items.find((i) => isScalar(i.key) && i.key.value === 'context');
        if (ctx && isScalar(ctx.value)) svc.build = String(ctx.value.value);
      }
    } else if (k === 'image' && isScalar(v)) svc.image = String(v.value);
    else if (k === 'depends_on' || k === 'links') {
      if (isSeq(v)) {
        for (const item of v.items)
          if (isScalar(item) && item.range)
            svc.dependsOn.push({ name: String(item.value).split(':')[0], ...span(item) });
      } else if (isMap(v)) {
        for (const item of v.items)
          if (isPair(item) && isScalar(item.key) && item.key.range)
            svc.dependsOn.push({ name: String(item.key.value), ...span(item.key) });
      }
    } else if (k === 'environment') {
      if (isMap(v)) {
        for (const item of v.items) {
          if (!isScalar(item.key) || !item.key.range) continue;
          const val = item.value;
          if (isScalar(val) && val.range && val.value !== null) {
            svc.environment.push({
              name: String(item.key.value),
              value: String(val.value),
              valueSpan: span(val),
              keySpan: span(item.key),
            });
          }
        }
      } else if (isSeq(v)) {
        for (const item of v.items) {
          if (!isScalar(item) || !item.range) continue;
          const raw = String(item.value);
          const eq = raw.indexOf('=');
          if (eq < 0) continue;
          // The scalar may be quoted: locate name and value in the source slice.
          const s = span(item);
          const src = text.slice(s.start, s.end);
          const quoted = /^["']/.test(src) ? 1 : 0;
          const eqAt = src.indexOf('=');
          svc.environment.push({
            name: raw.slice(0, eq),
            value: raw.slice(eq + 1),
            valueSpan: { start: s.start + eqAt + 1, end: s.end - quoted },
            keySpan: { start: s.start + quoted, end: s.start + eqAt },
          });
        }
      }
    } else if (k === 'ports' && isSeq(v)) {
      for (const item of v.items) {
        if (isScalar(item) && item.range) svc.ports.push({ ...span(item), ...parsePort(String(item.value)) });
        else if (isMap(item) && item.range) {
          const get = (n: string) => {
            const f = item.items.find((i) => isScalar(i.key) && i.key.value === n);
            return f && isScalar(f.value) ? Number(f.value.value) : undefined;
          };
          svc.ports.push({
            start: item.range[0],
            end: item.range[1],
            text: 'ports',
            host: get('published'),
            container: get('target'),
          });
        }
      }
    }
  }
}

/** `8080:80`, `127.0.0.1:8080:80/tcp`, `80`. */
export function parsePort(text: string): { text: string; host?: number; container?: number } {
  const clean = text.split('/')[0];
  const parts = clean.split(':');
  const container = Number(parts[parts.length - 1]);
  const host = parts.length >= 2 ? Number(parts[parts.length - 2]) : undefined;
  return {
    text,
    container: Number.isFinite(container) ? container : undefined,
    host: host !== undefined && Number.isFinite(host) ? host : undefined,
  };
}

function span(n: Node): Span {
  const r = n.range!;
  return { start: r[0], end: r[1] };
}

function endOf(pair: Pair): number {
  const v = pair.value as Node | null;
  if (v && v.range) return v.range[1];
  const k = pair.key as Node;
  return k.range ? k.range[1] : 0;
}
