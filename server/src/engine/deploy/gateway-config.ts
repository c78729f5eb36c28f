// The gateway's nginx configuration as text, from the replicas that should take traffic. Pure, so what nginx is told
// is tested without an engine; gateway.ts writes it into the gateway container, checks it and reloads.
import type { PortSpec, Service } from '../../protocol';

/** Where the configuration lives inside the gateway container (written by putArchive: no bind mount, any engine). */
export const GATEWAY_DIR = '/tmp/kyozo-gateway';
export const GATEWAY_CONF = `${GATEWAY_DIR}/nginx.conf`;
/** A configuration is written here first and checked with `nginx -t` before it replaces the live one. */
export const GATEWAY_NEXT_CONF = `${GATEWAY_DIR}/next.conf`;
/** uid:gid the gateway runs as: the `nginx` user of the official image; no user lookup is needed when not root. */
export const GATEWAY_USER = '101:101';

/** A replica as the gateway sees it: its address on the project network and whether it passes its health check. */
export interface UpstreamReplica {
  name: string;
  ip: string;
  /** 'healthy' passes its check; 'starting' has none yet (or no check at all); 'unhealthy' failed it. */
  health: 'healthy' | 'starting' | 'unhealthy';
}

/**
 * Which replicas get traffic: the healthy ones; when none is healthy yet, those still starting (better a replica
 * that may answer than a certain 502); never one whose health check failed.
 */
export function upstreamReplicas(replicas: UpstreamReplica[]): UpstreamReplica[] {
  const healthy = replicas.filter((r) => r.health === 'healthy' && r.ip);
  if (healthy.length) return healthy;
  return replicas.filter((r) => r.health === 'starting' && r.ip);
}

/** The TCP ports a gateway listens on for a service: the container ports it publishes (UDP is not proxied). */
export function gatewayPorts(ports: Pick<PortSpec, 'container' | 'protocol'>[]): number[] {
  return [...new Set(ports.filter((p) => p.protocol === 'tcp').map((p) => p.container))].sort((a, b) => a - b);
}

/**
 * Whether a service is served through a gateway: it publishes a TCP port and runs (or may run) more than one replica,
 * because it has `scaling` or a desired count above one. Once a gateway fronts a service it stays until `down` or
 * `rm`, so scaling back to one replica keeps the same URL without recreating anything.
 */
export function needsGateway(service: Service, desired: number, hasGateway: boolean): boolean {
  if (!gatewayPorts(service.ports).length) return false;
  return hasGateway || desired > 1 || Boolean(service.scaling);
}

export interface GatewayConfigInput {
  serviceName: string;
  ports: number[];
  /** The replicas that take traffic (see upstreamReplicas). */
  replicas: UpstreamReplica[];
  /** Seconds a replica that failed a request is left out before nginx tries it again (default 10). */
  failTimeoutSeconds?: number;
}

const IP = /^[0-9a-fA-F:.]+$/;

/**
 * nginx.conf for one service's gateway. Least connections over the replicas; a request that cannot reach a replica
 * (refused, reset, or no connection within 2 s) goes to the next one, and that replica sits out for fail_timeout
 * (passive max_fails=1), so a replica killed between two reconfigurations costs no failed request. Everything
 * nginx writes (pid, temp files) lives under /tmp, so it runs as a non-root user in any nginx image.
 */
export function gatewayConfig(input: GatewayConfigInput): string {
  const failTimeout = input.failTimeoutSeconds ?? 10;
  const lines = [
    `# Kyozo gateway for ${input.serviceName}: generated, rewritten on every change of its replicas.`,
    'worker_processes 1;',
    `pid ${GATEWAY_DIR}/nginx.pid;`,
    'error_log stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${GATEWAY_DIR}/client_body;`,
    `  proxy_temp_path ${GATEWAY_DIR}/proxy;`,
    `  fastcgi_temp_path ${GATEWAY_DIR}/fastcgi;`,
    `  uwsgi_temp_path ${GATEWAY_DIR}/uwsgi;`,
    `  scgi_temp_path ${GATEWAY_DIR}/scgi;`,
    '  map $http_upgrade $kyozo_connection { default upgrade; "" ""; }',
  ];
  for (const port of input.ports) {
    const upstream = `kyozo_${port}`;
    lines.push(`  upstream ${upstream} {`, '    least_conn;');
    const servers = input.replicas.filter((r) => IP.test(r.ip));
    for (const r of servers)
      lines.push(
        `    server ${r.ip.includes(':') ? `[${r.ip}]` : r.ip}:${port} max_fails=1 fail_timeout=${failTimeout}s;`,
      );
    // An upstream needs a server: with no replica to send to, one marked down makes every request a prompt 502.
    if (!servers.length) lines.push('    server 127.0.0.1:9 down;');
    lines.push(
      '  }',
      '  server {',
      `    listen ${port};`,
      '    location / {',
      `      proxy_pass http://${upstream};`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Host $http_host;',
      '      proxy_set_header Upgrade $http_upgrade;',
      '      proxy_set_header Connection $kyozo_connection;',
      '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      '      proxy_set_header X-Forwarded-Proto $scheme;',
      '      proxy_connect_timeout 2s;',
      '      proxy_next_upstream error timeout;',
      '      proxy_next_upstream_tries 0;',
      '      proxy_buffering off;',
      '      client_max_body_size 0;',
      '    }',
      '  }',
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}
