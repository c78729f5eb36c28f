// Container logs as text lines: Docker's multiplexed frames decoded, replicas prefixed when there are several.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { LogOptions } from './orchestrator';
import { Label } from './labels';

type Destroyable = { destroy(): void };

/** Docker's multiplexed log format (8-byte frame headers) to text; plain text passes through. */
export function demuxBuffer(buf: Buffer | string): string {
  if (typeof buf === 'string') return buf;
  let out = '';
  let i = 0;
  const isHeader = (at: number) =>
    (buf[at] === 1 || buf[at] === 2 || buf[at] === 0) && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0;
  while (i + 8 <= buf.length && isHeader(i)) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return i === 0 ? buf.toString('utf8') : out;
}

/** The last `n` non-empty lines of a container's output; none when the engine cannot give them. */
export async function tailLogs(docker: Docker, id: string, n: number): Promise<string[]> {
  try {
    const options = { stdout: true, stderr: true, tail: n, follow: false } as const;
    const buf = (await docker.getContainer(id).logs(options)) as unknown as Buffer;
    return demuxBuffer(buf)
      .split('\n')
      .filter((l) => l.length > 0)
      .slice(-n);
  } catch {
    return [];
  }
}

/** The lines of a service's replicas (`name-<replica> | ` before each when there are several), followed or not. */
export async function* serviceLogs(
  docker: Docker,
  serviceName: string,
  list: Docker.ContainerInfo[],
  options: LogOptions = {},
): AsyncIterable<string> {
  const prefix = list.length > 1;
  const tail = options.tail ?? 200;
  if (!options.follow) {
    for (const c of list) {
      const options = { stdout: true, stderr: true, tail, follow: false } as const;
      const buf = (await docker.getContainer(c.Id).logs(options)) as unknown as Buffer;
      const name = `${serviceName}-${c.Labels[Label.replica]}`;
      for (const line of demuxBuffer(buf).split('\n')) if (line) yield prefix ? `${name} | ${line}` : line;
    }
    return;
  }
  const out = new PassThrough();
  const streams: NodeJS.ReadableStream[] = [];
  let open = list.length;
  for (const c of list) {
    const follow = { stdout: true, stderr: true, tail, follow: true } as const;
    const stream = (await docker.getContainer(c.Id).logs(follow)) as NodeJS.ReadableStream;
    streams.push(stream);
    const name = `${serviceName}-${c.Labels[Label.replica]}`;
    const sink = new PassThrough();
    let rest = '';
    sink.on('data', (d: Buffer) => {
      const parts = (rest + d.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) out.write(`${prefix ? `${name} | ` : ''}${line}\n`);
    });
    docker.modem.demuxStream(stream, sink, sink);
    stream.on('end', () => {
      if (--open === 0) out.end();
    });
  }
  const stop = () => {
    for (const s of streams) (s as unknown as Destroyable).destroy();
    out.end();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  let rest = '';
  for await (const chunk of out) {
    const parts = (rest + (chunk as Buffer).toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) yield line;
  }
}
