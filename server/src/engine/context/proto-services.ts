// gRPC services and methods declared in a .proto file. The grammar's service blocks are regular enough that a
// comment-stripping scan finds them; a full protobuf parser (protobufjs) would add a dependency for the same answer.

export interface ProtoMethod {
  name: string;
  request: string;
  response: string;
  /** Client or server streaming, as the proto declares it. */
  streaming: boolean;
  line: number;
}

export interface ProtoService {
  /** The package-qualified name (`hipstershop.CartService`), or the bare name when the file has no package. */
  fullName: string;
  name: string;
  line: number;
  methods: ProtoMethod[];
}

/** Comments become spaces of the same length, so offsets (and lines) stay those of the original text. */
function blankComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
}

export function readProtoServices(text: string): ProtoService[] {
  const src = blankComments(text);
  const lineAt = (offset: number) => {
    let line = 1;
    for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) line++;
    return line;
  };
  const pkg = /(?:^|[;\s])package\s+([\w.]+)\s*;/.exec(src)?.[1];
  const services: ProtoService[] = [];
  const serviceRe = /(?:^|[\s;}])service\s+(\w+)\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = serviceRe.exec(src))) {
    const start = m.index + m[0].length;
    // The body ends at the brace that balances the service's own (rpc options may hold braces).
    let depth = 1;
    let end = start;
    while (end < src.length && depth > 0) {
      const c = src[end++];
      if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    const body = src.slice(start, end - 1);
    const methods: ProtoMethod[] = [];
    const rpcRe = /\brpc\s+(\w+)\s*\(\s*(stream\s+)?([\w.]+)\s*\)\s*returns\s*\(\s*(stream\s+)?([\w.]+)\s*\)/g;
    let r: RegExpExecArray | null;
    while ((r = rpcRe.exec(body))) {
      methods.push({
        name: r[1],
        request: r[3],
        response: r[5],
        streaming: Boolean(r[2] || r[4]),
        line: lineAt(start + r.index),
      });
    }
    services.push({
      fullName: pkg ? `${pkg}.${m[1]}` : m[1],
      name: m[1],
      line: lineAt(m.index + m[0].indexOf('service')),
      methods,
    });
    serviceRe.lastIndex = end;
  }
  return services;
}
