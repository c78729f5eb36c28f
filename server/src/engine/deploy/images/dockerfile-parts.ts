// Pieces every generated Dockerfile shares. Design rules so one text works on both the official images and minimal
// ones (a scratch image with busybox and the runtime, as the tests build): numeric USER (no useradd, no /etc/passwd
// entry needed), only POSIX sh in RUN, and no environment values baked in (they are injected at run time).
import type { Service } from '../../../protocol';

export const USER = '10001:10001';

/** A runtime's images: `base` for the build (and for one-stage images), `run` for the run stage of multi-stage ones. */
export interface TemplateImages {
  base: string;
  run: string;
}

export interface ImageTemplate {
  /** The Dockerfile lines after the header comment. */
  lines(service: Service, images: TemplateImages): string[];
}

export function cmd(service: Service, fallback: string[]): string {
  const start = service.start;
  let argv = fallback;
  if (start?.argv?.length) argv = start.argv;
  else if (start?.command) argv = ['sh', '-c', start.command];
  return `CMD ${JSON.stringify(argv)}`;
}

export function expose(service: Service): string[] {
  const ports = [...new Set(service.ports.map((p) => `${p.container}${p.protocol === 'udp' ? '/udp' : ''}`))];
  return ports.length ? [`EXPOSE ${ports.join(' ')}`] : [];
}

/** Whether the service's folder holds `file` among the indicator files detection reported. */
export function has(service: Service, file: string): boolean {
  const prefix = service.folder === '.' ? '' : `${service.folder}/`;
  return service.indicators.some((i) => i === `${prefix}${file}` || i.endsWith(`/${file}`) || i === file);
}
