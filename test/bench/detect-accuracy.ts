// Language and port accuracy of detection over single-app repositories, each analysed as a repository of its own
// against a label written from its files (not from what detection reports): the language its code is written in,
// and the port the deployed app listens on (null when it listens on nothing). Used by `npm run bench:detect`, which
// prints the figures, and by test/unit/detect-accuracy.test.ts, which holds them to the goals of issue 14.
import { join } from 'node:path';
import { analyze } from '../../server/src/engine';

export interface Label {
  /** Relative to test/. */
  repo: string;
  /** The language of its code; more than one when either is right (a TypeScript config over JavaScript pages). */
  language: string | string[];
  port: number | null;
}

const TEST_DIR = join(__dirname, '..');

const f = (repo: string, language: Label['language'], port: number | null): Label => ({
  repo: `fixtures/${repo}`,
  language,
  port,
});

export const LABELS: Label[] = [
  // Elixir, Gleam, Deno, C/C++, Kotlin, Scala, Bun and shell entry points
  f('polyglot-runtimes/akka-api', 'scala', 8096),
  f('polyglot-runtimes/beast-echo', 'cpp', 8092),
  f('polyglot-runtimes/bun-api', 'typescript', 3100),
  f('polyglot-runtimes/crow-server', 'cpp', 18080),
  f('polyglot-runtimes/deno-api', 'typescript', 8002),
  f('polyglot-runtimes/drogon-api', 'cpp', 8090),
  f('polyglot-runtimes/elixir-mailer', 'elixir', null),
  f('polyglot-runtimes/fresh-site', 'typescript', 8000),
  f('polyglot-runtimes/gleam-web', 'gleam', 8001),
  f('polyglot-runtimes/http4s-api', 'scala', 8095),
  f('polyglot-runtimes/httplib-meson', 'cpp', 8091),
  f('polyglot-runtimes/ktor-api', 'kotlin', 8093),
  f('polyglot-runtimes/phoenix-shop', 'elixir', 4100),
  f('polyglot-runtimes/play-app', 'scala', 9000),
  f('polyglot-runtimes/plug-api', 'elixir', 4001),
  f('polyglot-runtimes/shell-app', 'python', 8098),
  f('polyglot-runtimes/spring-kotlin', 'kotlin', 8094),
  // programs that listen on nothing
  f('runnable-programs/c-report', 'c', null),
  f('runnable-programs/go-migrate', 'go', null),
  f('runnable-programs/go-poller', 'go', null),
  f('runnable-programs/java-batch', 'java', null),
  f('runnable-programs/java-indexer', 'java', null),
  f('runnable-programs/java-seed', 'java', null),
  f('runnable-programs/kotlin-digest', 'kotlin', null),
  f('runnable-programs/node-cli', 'javascript', null),
  f('runnable-programs/node-consumer', 'javascript', null),
  f('runnable-programs/node-heartbeat', 'javascript', null),
  f('runnable-programs/py-digest', 'python', null),
  f('runnable-programs/py-export', 'python', null),
  f('runnable-programs/rust-cleanup', 'rust', null),
  f('runnable-programs/sync-loop', 'shell', null),
  f('lone-bot', 'python', null),
  f('lone-php-job', 'php', null),
  // Node.js APIs and frontends
  f('node-apis/bun-api', 'typescript', 3002),
  f('node-apis/express-api', 'javascript', 3000),
  f('node-apis/fastify-api', 'javascript', 3001),
  f('node-apis/koa-api', 'javascript', 4000),
  f('node-apis/nest-api', 'typescript', 8081),
  f('node-frontends/blog', ['typescript', 'javascript'], 3000),
  f('node-frontends/dashboard', 'javascript', 5173),
  f('node-frontends/docs-site', 'javascript', 4321),
  f('node-frontends/kit', 'javascript', 3000),
  f('node-frontends/remix-shop', 'typescript', 3000),
  f('node-frontends/storefront', 'javascript', 3005),
  // Python
  f('python-services/celery-worker', 'python', null),
  f('python-services/django-site', 'python', 8000),
  f('python-services/fastapi-poetry', 'python', 8010),
  f('python-services/flask-app', 'python', 5050),
  f('python-services/pdm-service', 'python', 7000),
  f('python-services/setuppy-service', 'python', 5000),
  f('python-services/streamlit-dash', 'python', 8501),
  f('python-services/uv-api', 'python', 8000),
  f('wsgi-servers/fastapi-script', 'python', 8111),
  f('wsgi-servers/flask-gunicorn', 'python', 8000),
  f('heroku-app', 'python', 8080),
  // Go, Ruby, JVM, PHP, .NET, static
  f('go-services/catalog', 'go', 1323),
  f('go-services/gateway', 'go', 8090),
  f('go-services/inventory', 'go', 8081),
  f('go-services/ledger', 'go', 3002),
  f('go-services/status', 'go', 8085),
  f('ruby-apps/jobs', 'ruby', null),
  f('ruby-apps/storefront', 'ruby', 3000),
  f('ruby-apps/webhooks', 'ruby', 4567),
  // inventory is built by the Gradle Kotlin DSL, but its code is Java
  f('java-spring/billing', 'java', 8282),
  f('java-spring/inventory', 'java', 8080),
  f('java-spring/orders', 'java', 8181),
  f('maven-multimodule/catalog-service', 'java', 8081),
  f('maven-multimodule/checkout-service', 'java', 8082),
  f('php-dotnet/Reports.Api', 'csharp', 8080),
  f('php-dotnet/billing', 'php', 8080),
  f('static-site', 'html', 80),
  // one port source each
  f('port-sources/from-code', 'python', 5055),
  f('port-sources/from-config-module', 'javascript', 8088),
  f('port-sources/from-const', 'javascript', 5000),
  f('port-sources/from-default', 'python', 8000),
  f('port-sources/from-dockerfile', 'javascript', 5005),
  f('port-sources/from-getenv', 'python', 8070),
  f('port-sources/from-go-code', 'go', 9100),
  f('port-sources/from-go-env', 'go', 9300),
  f('port-sources/from-gunicorn-conf', 'python', 8050),
  f('port-sources/from-nullish', 'typescript', 4500),
  f('port-sources/from-procfile', 'python', 5100),
  f('port-sources/from-script-env', 'javascript', 4000),
  f('port-sources/from-script-flag', 'javascript', 8080),
  f('port-sources/from-vite-config', 'javascript', 4200),
  // made by the frameworks' own create tools
  { repo: 'realworld/astro-site', language: 'typescript', port: 4321 },
  { repo: 'realworld/express-api', language: 'javascript', port: 3000 },
  { repo: 'realworld/next-app', language: 'typescript', port: 3000 },
  { repo: 'realworld/vite-react', language: 'typescript', port: 5173 },
  { repo: 'realworld/vite-svelte', language: 'typescript', port: 5173 },
  { repo: 'realworld/vite-vue', language: 'javascript', port: 5173 },
];

export interface Accuracy {
  repositories: number;
  languageRight: number;
  /** Repositories whose app listens on a port, and those of them detected with that port. */
  withPort: number;
  portRight: number;
  /** Repositories that listen on nothing and were detected with no port. */
  withoutPort: number;
  noPortRight: number;
  misses: string[];
}

/** Analyses each labelled repository at its root and compares the service there with its label. */
export async function measureAccuracy(labels: Label[] = LABELS): Promise<Accuracy> {
  const acc: Accuracy = {
    repositories: 0,
    languageRight: 0,
    withPort: 0,
    portRight: 0,
    withoutPort: 0,
    noPortRight: 0,
    misses: [],
  };
  for (const label of labels) {
    acc.repositories++;
    const topology = await analyze(join(TEST_DIR, label.repo));
    const svc = topology.services.find((s) => s.id === '.');
    const languages = Array.isArray(label.language) ? label.language : [label.language];
    if (svc?.language && languages.includes(svc.language)) acc.languageRight++;
    else acc.misses.push(`${label.repo}: language ${svc?.language ?? 'none'}, labelled ${languages.join(' or ')}`);
    const port = svc?.ports[0]?.container ?? null;
    if (label.port === null) {
      acc.withoutPort++;
      if (svc && port === null) acc.noPortRight++;
      else acc.misses.push(`${label.repo}: port ${port ?? (svc ? 'none' : 'no service')}, labelled none`);
    } else {
      acc.withPort++;
      if (port === label.port) acc.portRight++;
      else acc.misses.push(`${label.repo}: port ${port ?? (svc ? 'none' : 'no service')}, labelled ${label.port}`);
    }
  }
  return acc;
}

const percent = (right: number, of: number) => `${((100 * right) / Math.max(of, 1)).toFixed(1)}% (${right}/${of})`;

/** The figures as printed lines. */
export function describeAccuracy(acc: Accuracy): string[] {
  return [
    `accuracy over ${acc.repositories} labelled single-app repositories:`,
    `  language                 ${percent(acc.languageRight, acc.repositories)}   goal 97%`,
    `  port (apps that listen)  ${percent(acc.portRight, acc.withPort)}   goal 90%`,
    `  no port (workers, jobs)  ${percent(acc.noPortRight, acc.withoutPort)}`,
    ...acc.misses.map((m) => `  miss: ${m}`),
  ];
}
