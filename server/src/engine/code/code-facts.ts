// What the tree-sitter readers find in one source file. Lines are 1-based.

export type CodeLanguage =
  'javascript' | 'typescript' | 'tsx' | 'python' | 'go' | 'rust' | 'java' | 'ruby' | 'php' | 'csharp' | 'kotlin';

export interface CodeFacts {
  /** Ports the code listens on: `listen(3000)`, `process.env.PORT || 3000`, `app.run(port=5000)`, `":8080"`. */
  ports: { port: number; line: number; reason: string; envVar?: string }[];
  /**
   * Environment variables read: `process.env.X`, `os.environ.get("X", "d")`, `os.Getenv("X")`, and calls of a function
   * the file defines around such a read (`mustMapEnv(&addr, "X")`), which name that function in `via`.
   */
  envReads: { name: string; line: number; defaultValue?: string; via?: string }[];
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
  /**
   * gRPC services by their proto name (`CartService`): served (`RegisterCartServiceServer`, `add_…Servicer_to_server`,
   * `addService(pkg.CartService.service)`, `MapGrpcService<T>`, `…ImplBase`) or called through a generated client
   * (`NewCartServiceClient`, `CartServiceStub`, `new pkg.CartService(addr, creds)`, `CartServiceGrpc.newStub`).
   * The standard health service is `grpc.health.v1.Health`.
   */
  grpc: { service: string; role: 'server' | 'client'; line: number; reason: string }[];
  /** Queue, topic, channel and task names handed to a broker client, with whether the code sends or receives. */
  topics: {
    system: BrokerSystem;
    name: string;
    role: 'produce' | 'consume';
    line: number;
    reason: string;
    /** A Celery task named after its function only: its full name is the file's dotted module path, a dot, this. */
    inModule?: boolean;
  }[];
  /**
   * Addresses handed to a client (`grpc.Dial(addr)`, `insecure_channel(f"{host}:{port}")`, `axios.create({ baseURL })`)
   * traced back to the environment variables that feed them.
   */
  dials: { envVars: string[]; line: number; reason: string }[];
  /** What keeps the program running when it listens on nothing (a loop, a scheduler, a consumer); else a job. */
  longRunning?: { line: number; reason: string };
}

/** Where a queue or topic name lives: the same name on two systems is two different things. */
export type BrokerSystem = 'kafka' | 'rabbitmq' | 'redis-channel' | 'redis-list' | 'nats' | 'celery' | 'bull';

/** The well-known name of the standard gRPC health service. */
export const GRPC_HEALTH = 'grpc.health.v1.Health';

export function emptyFacts(): CodeFacts {
  return { ports: [], envReads: [], urls: [], routes: [], imports: [], hosts: [], grpc: [], topics: [], dials: [] };
}
