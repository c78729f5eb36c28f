// Python: flask/uvicorn/aiohttp/waitress/http.server listen sites, os.environ reads, decorator and django routes.
import type { Node } from 'web-tree-sitter';
import { brief, FactSink, type At, isOwnPortVar, lineOf, mergePort, portFromAddress, portFromDigits, validPort, type PortValue } from './fact-sink';

const runMethods = new Set(['run', 'run_app', 'run_server', 'serve', 'run_simple', 'listen']);
const serverClasses = /^(?:HTTPServer|ThreadingHTTPServer|TCPServer|ThreadingTCPServer|WSGIServer|make_server)$/;
const routeMethods = new Set(['route', 'get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'api_route', 'websocket']);
const envGetters = /^(?:os\.environ\.get|os\.getenv|environ\.get|getenv|os\.environ\.setdefault)$/;

/** The value of a plain (non-f) string literal, without prefix and quotes. */
export function pythonString(node: Node | null | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  const text = node.text;
  return /^[rRbBuU]*[fF]/.test(text) ? undefined : stringBody(text); // an f-string has no single value
}

function stringBody(text: string): string | undefined {
  const m = /^[rRbBuUfF]{0,2}("""|'''|"|')([\s\S]*)\1$/.exec(text);
  return m?.[2];
}

function argList(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
}

function keyword(call: Node, name: string): Node | undefined {
  for (const a of argList(call)) {
    if (a.type === 'keyword_argument' && a.childForFieldName('name')?.text === name) return a.childForFieldName('value') ?? undefined;
  }
  return undefined;
}

function positional(call: Node): Node[] {
  return argList(call).filter((a) => a.type !== 'keyword_argument' && a.type !== 'list_splat' && a.type !== 'dictionary_splat');
}

function literal(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'integer' || node.type === 'float') return node.text;
  return pythonString(node);
}

/** `os.environ.get("X", d)` / `os.getenv("X")` / `os.environ["X"]` → { name, default node }. */
function envAccess(node: Node): { name: string; fallback?: Node } | undefined {
  if (node.type === 'call') {
    const fn = node.childForFieldName('function')?.text ?? '';
    if (!envGetters.test(fn)) return undefined;
    const [first, second] = positional(node);
    const name = pythonString(first);
    return name ? { name, fallback: second ?? keyword(node, 'default') } : undefined;
  }
  if (node.type === 'subscript') {
    const value = node.childForFieldName('value')?.text;
    if (value !== 'os.environ' && value !== 'environ') return undefined;
    const name = pythonString(node.childForFieldName('subscript'));
    return name ? { name } : undefined;
  }
  return undefined;
}

export function readPython(root: Node, sink: FactSink, source: string): void {
  const types = ['call', 'decorator', 'import_statement', 'import_from_statement', 'assignment'];
  if (source.includes('environ')) types.push('subscript');
  if (source.includes('://')) types.push('string');
  const nodes = root.descendantsOfType(types);
  const bindings = new Map<string, Node>();
  for (const a of nodes) {
    if (a.type !== 'assignment') continue;
    const left = a.childForFieldName('left');
    const right = a.childForFieldName('right');
    if (left?.type === 'identifier' && right && !bindings.has(left.text)) bindings.set(left.text, right);
  }

  const evalPort = (node: Node | null | undefined, depth = 0): PortValue | undefined => {
    if (!node || depth > 4) return undefined;
    switch (node.type) {
      case 'integer': return { port: validPort(Number(node.text)) };
      case 'string': {
        const s = pythonString(node);
        return s === undefined ? undefined : { port: portFromDigits(s) };
      }
      case 'parenthesized_expression': return evalPort(node.namedChild(0), depth + 1);
      case 'boolean_operator':
        return node.childForFieldName('operator')?.text === 'or'
          ? mergePort(evalPort(node.childForFieldName('left'), depth + 1), evalPort(node.childForFieldName('right'), depth + 1))
          : undefined;
      case 'identifier': {
        const b = bindings.get(node.text);
        return b ? evalPort(b, depth + 1) : undefined;
      }
      case 'call': case 'subscript': {
        const env = envAccess(node);
        if (env) return { envVar: env.name, port: evalPort(env.fallback, depth + 1)?.port };
        if (node.type === 'call' && /^(?:int|str)$/.test(node.childForFieldName('function')?.text ?? '')) {
          return evalPort(positional(node)[0], depth + 1);
        }
        return undefined;
      }
      default: return undefined;
    }
  };

  const reasonFor = (site: string, arg: Node | undefined): string => {
    if (arg?.type !== 'identifier') return site;
    const b = bindings.get(arg.text);
    return b ? `${site}, ${arg.text} = ${brief(b.text, 50)}` : site;
  };

  for (const node of nodes) {
    switch (node.type) {
      case 'call': readCall(node); break;
      case 'subscript': readEnv(node); break;
      case 'string': {
        // f"http://{host}:8000" keeps its placeholders: the host may still name a service.
        const text = node.text;
        const body = text.includes('://') ? stringBody(text) : undefined;
        if (body !== undefined) sink.url(body, node);
        break;
      }
      case 'decorator': readDecorator(node); break;
      case 'import_statement':
        for (const name of node.childrenForFieldName('name')) {
          const module = name.type === 'aliased_import' ? name.childForFieldName('name') : name;
          if (module) sink.import(module.text, lineOf(node));
        }
        break;
      case 'import_from_statement': {
        const module = node.childForFieldName('module_name');
        if (module) sink.import(module.text, lineOf(node));
        break;
      }
      case 'assignment': readGunicornBind(node); break;
    }
  }

  function readCall(call: Node): void {
    readEnv(call);
    const hostArg = keyword(call, 'host') ?? keyword(call, 'hostname');
    if (hostArg) {
      // redis.Redis(host="cache") / psycopg2.connect(host=os.environ.get("DB_HOST", "db"))
      const env = envAccess(hostArg);
      const literal = env ? pythonString(env.fallback) : pythonString(hostArg);
      if (literal !== undefined) sink.host(literal, hostArg);
    }
    const fn = call.childForFieldName('function');
    if (!fn) return;
    const name = fn.type === 'attribute' ? fn.childForFieldName('attribute')?.text ?? '' : fn.text;
    const line: At = fn.type === 'attribute' ? fn.childForFieldName('attribute') ?? call : call;
    if (runMethods.has(name)) {
      const kw = keyword(call, 'port');
      if (kw) {
        sink.port(evalPort(kw), line, reasonFor(`${brief(fn.text, 30)}(port=${brief(kw.text, 40)})`, kw));
        return;
      }
      const pos = positional(call);
      const arg = name === 'listen' ? pos[0] : name === 'run_simple' ? pos[1] : undefined; // tornado / werkzeug
      if (arg) sink.port(evalPort(arg), line, reasonFor(`${brief(fn.text, 30)}(${brief(arg.text, 40)})`, arg));
      return;
    }
    if (serverClasses.test(name)) {
      // HTTPServer(("", 8000), Handler) / make_server("", 8000, app)
      const [first, second] = positional(call);
      const portNode = first?.type === 'tuple' ? first.namedChildren[1] : name === 'make_server' ? second : undefined;
      if (portNode) sink.port(evalPort(portNode), line, reasonFor(`${name}(${brief(first.text, 40)}, …)`, portNode));
      return;
    }
    if (name === 'add_url_rule' || (name === 'Route' && fn.type === 'identifier')) {
      // flask app.add_url_rule("/health", view_func=health) / starlette Route("/health", endpoint=health)
      const path = pythonString(positional(call)[0]) ?? pythonString(keyword(call, 'rule') ?? keyword(call, 'path'));
      const methods = keyword(call, 'methods');
      if (path !== undefined) sink.route(path, line, methods?.type === 'list' ? pythonString(methods.namedChildren[0]) : undefined);
      return;
    }
    if ((name === 'path' || name === 're_path' || name === 'url') && fn.type === 'identifier') {
      const pos = positional(call);
      const route = pythonString(pos[0]);
      if (route !== undefined && pos.length >= 2) {
        sink.route(`/${route.replace(/^\^/, '').replace(/\$$/, '').replace(/^\/+/, '')}`, line);
      }
    }
  }

  function readEnv(node: Node): void {
    const env = envAccess(node);
    if (!env) return;
    let top = node;
    // int(os.environ.get("PORT", 5000)) or os.environ.get("PORT") or "8000"
    if (top.parent?.type === 'argument_list' && top.parent.parent?.type === 'call' &&
        /^(?:int|str)$/.test(top.parent.parent.childForFieldName('function')?.text ?? '')) top = top.parent.parent;
    let fallback = env.fallback;
    const parent = top.parent;
    if (!fallback && parent?.type === 'boolean_operator' && parent.childForFieldName('operator')?.text === 'or' &&
        parent.childForFieldName('left')?.equals(top)) fallback = parent.childForFieldName('right') ?? undefined;
    const defaultValue = literal(fallback);
    sink.env(env.name, lineOf(node), defaultValue);
    if (isOwnPortVar(env.name) && defaultValue !== undefined) {
      sink.port({ port: portFromDigits(defaultValue), envVar: env.name }, lineOf(node), brief(node.text, 80), true);
    }
  }

  function readDecorator(node: Node): void {
    const call = node.namedChild(0);
    if (call?.type !== 'call') return;
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'attribute') return;
    const method = fn.childForFieldName('attribute')?.text ?? '';
    if (!routeMethods.has(method)) return;
    const path = pythonString(positional(call)[0]) ?? pythonString(keyword(call, 'path') ?? keyword(call, 'rule'));
    if (path === undefined) return;
    let verb: string | undefined = /^(?:route|api_route|websocket)$/.test(method) ? undefined : method;
    const methods = keyword(call, 'methods');
    if (!verb && methods?.type === 'list') verb = pythonString(methods.namedChildren[0]);
    sink.route(path, lineOf(node), verb);
  }

  // gunicorn.conf.py: bind = "0.0.0.0:8000" at module level.
  function readGunicornBind(node: Node): void {
    if (node.parent?.parent?.type !== 'module' || node.childForFieldName('left')?.text !== 'bind') return;
    const value = pythonString(node.childForFieldName('right'));
    if (value !== undefined) sink.port({ port: portFromAddress(value) }, lineOf(node), `bind = "${brief(value, 40)}"`);
  }
}
