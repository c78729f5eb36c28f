// Reverse proxies: nginx.conf (listen, upstream, proxy_pass) and Caddyfile (reverse_proxy).
import type { Evidence, PortSpec } from '../../protocol';
import { ev } from '../parse/evidence';
import type { Finding, FolderView } from './types';

const NGINX_NAMES = ['nginx.conf', 'default.conf', 'nginx.conf.template', 'default.conf.template'];

function hostPort(target: string): { host: string; port?: number } | undefined {
  const m = /^(?:[a-z]+:\/\/)?([A-Za-z0-9_.-]+)(?::(\d+))?/.exec(target.trim());
  if (!m) return undefined;
  return { host: m[1], port: m[2] ? Number(m[2]) : undefined };
}

export function parseNginx(
  text: string,
  file: string,
): { ports: PortSpec[]; upstreams: { host: string; port?: number; evidence: Evidence }[] } {
  const ports: PortSpec[] = [];
  const upstreamBlocks = new Map<string, { host: string; port?: number; evidence: Evidence }[]>();
  const proxied: { target: string; evidence: Evidence }[] = [];
  let currentUpstream: string | undefined;
  let depth = 0;
  let upstreamDepth = -1;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    const n = i + 1;
    const up = /^upstream\s+([\w.-]+)\s*\{/.exec(line);
    if (up) {
      currentUpstream = up[1];
      upstreamDepth = depth;
      upstreamBlocks.set(up[1], []);
    }
    const listen = /^listen\s+(?:[\d.]+:|\[::\]:)?(\d+)/.exec(line);
    if (listen && !ports.some((p) => p.container === Number(listen[1])))
      ports.push({
        container: Number(listen[1]),
        protocol: 'tcp',
        source: 'config',
        evidence: ev(file, line.replace(/;$/, ''), n),
      });
    const server = /^server\s+([^\s;]+)/.exec(line);
    if (server && currentUpstream) {
      const hp = hostPort(server[1]);
      if (hp)
        upstreamBlocks
          .get(currentUpstream)!
          .push({ ...hp, evidence: ev(file, `upstream ${currentUpstream} → ${server[1]}`, n) });
    }
    const pass = /^(?:proxy_pass|grpc_pass|fastcgi_pass|uwsgi_pass)\s+([^\s;]+)/.exec(line);
    if (pass) proxied.push({ target: pass[1], evidence: ev(file, line.replace(/;$/, ''), n) });
    for (const ch of line) {
      if (ch === '{') depth++;
      if (ch === '}') {
        depth--;
        if (depth === upstreamDepth) {
          currentUpstream = undefined;
          upstreamDepth = -1;
        }
      }
    }
  });
  const upstreams: { host: string; port?: number; evidence: Evidence }[] = [];
  for (const p of proxied) {
    const hp = hostPort(p.target.replace(/\$\w+/g, ''));
    if (!hp) continue;
    const block = upstreamBlocks.get(hp.host);
    if (block)
      upstreams.push(
        ...block.map((b) => ({
          ...b,
          evidence: { ...b.evidence, reason: `${p.evidence.reason} via ${b.evidence.reason}` },
        })),
      );
    else upstreams.push({ ...hp, evidence: p.evidence });
  }
  return { ports, upstreams };
}

export function detectProxy(folder: FolderView): Finding | undefined {
  const nginx =
    NGINX_NAMES.find((n) => folder.has(n)) ??
    (folder.sub('conf.d')?.files.find((f) => f.endsWith('.conf'))
      ? `conf.d/${folder.sub('conf.d')!.files.find((f) => f.endsWith('.conf'))}`
      : undefined);
  if (nginx) {
    const file = folder.rel(nginx);
    const parsed = parseNginx(folder.index.read(file).text ?? '', file);
    if (parsed.ports.length === 0)
      parsed.ports.push({
        container: 80,
        protocol: 'tcp',
        source: 'framework-default',
        evidence: ev(file, 'nginx listens on 80 by default'),
      });
    return {
      detector: 'nginx',
      type: 'proxy',
      rank: 4,
      frameworks: ['nginx'],
      confidence: 0.85,
      evidence: [ev(file, 'nginx configuration')],
      indicators: [file],
      ports: parsed.ports,
      upstreams: parsed.upstreams,
      runnable: true,
      image: 'nginx:alpine',
    };
  }
  if (folder.has('Caddyfile')) {
    const file = folder.rel('Caddyfile');
    const text = folder.read('Caddyfile') ?? '';
    const upstreams: { host: string; port?: number; evidence: Evidence }[] = [];
    text.split(/\r?\n/).forEach((l, i) => {
      const m = /^\s*reverse_proxy\s+(?:\S+\s+)?([\w.-]+:\d+)/.exec(l);
      const hp = m ? hostPort(m[1]) : undefined;
      if (hp) upstreams.push({ ...hp, evidence: ev(file, l.trim(), i + 1) });
    });
    const addr = /^(?::(\d+)|[\w.-]+:(\d+))\s*\{/m.exec(text);
    const port = addr ? Number(addr[1] ?? addr[2]) : 80;
    return {
      detector: 'caddy',
      type: 'proxy',
      rank: 4,
      frameworks: ['caddy'],
      confidence: 0.85,
      evidence: [ev(file, 'Caddy configuration')],
      indicators: [file],
      ports: [
        {
          container: port,
          protocol: 'tcp',
          source: addr ? 'config' : 'framework-default',
          evidence: ev(file, `Caddy serves on ${port}`),
        },
      ],
      upstreams,
      runnable: true,
      image: 'caddy:2-alpine',
    };
  }
  return undefined;
}
