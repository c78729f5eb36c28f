// What the tree-sitter readers find in one source file. Lines are 1-based.

export type CodeLanguage = 'javascript' | 'typescript' | 'tsx' | 'python' | 'go' | 'rust' | 'java' | 'ruby' | 'php' | 'csharp';

export interface CodeFacts {
  /** Ports the code listens on: `listen(3000)`, `process.env.PORT || 3000`, `app.run(port=5000)`, `":8080"`. */
  ports: { port: number; line: number; reason: string; envVar?: string }[];
  /** Environment variables read: `process.env.X`, `os.environ.get("X", "d")`, `os.Getenv("X")`. */
  envReads: { name: string; line: number; defaultValue?: string }[];
  /** Outbound URL literals and host names: `http://users:3000/x`, `redis://cache:6379`. */
  urls: { url: string; line: number }[];
  /** HTTP routes the code defines; used to find health endpoints (`/health`, `/healthz`, `/ready`). */
  routes: { path: string; line: number; method?: string }[];
  /** Imported modules / packages (`pg`, `psycopg2`, `github.com/lib/pq`). */
  imports: { module: string; line: number }[];
  /**
   * Host names given to clients in code: `new Pool({ host: 'db' })`, `redis.Redis(host="cache")`,
   * `redis.Options{Addr: "cache:6379"}`. Loopback and wildcard addresses are left out. JS/TS, Python and Go only.
   */
  hosts: { host: string; line: number; port?: number }[];
}

export function emptyFacts(): CodeFacts {
  return { ports: [], envReads: [], urls: [], routes: [], imports: [], hosts: [] };
}
