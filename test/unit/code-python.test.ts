// Python readers: flask/fastapi/uvicorn/django/http.server sources with exact ports, lines, env reads and routes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initCodeReaders, readCode } from '../../server/src/engine/code';

const lines = (...l: string[]): string => l.join('\n');

before(async () => {
  await initCodeReaders(['python']);
});

describe('code readers: Python', () => {
  it('reads a flask app: route, env-derived port through a module constant, imports', () => {
    const facts = readCode(
      'python',
      lines(
        'import os',
        'from flask import Flask',
        'app = Flask(__name__)',
        'PORT = int(os.environ.get("PORT", 5000))',
        '@app.route("/health")',
        'def health():',
        '    return "ok"',
        'if __name__ == "__main__":',
        '    app.run(host="0.0.0.0", port=PORT)',
      ),
    );
    assert.deepEqual(facts.ports, [
      { port: 5000, line: 9, reason: 'app.run(port=PORT), PORT = int(os.environ.get("PORT", 5000))', envVar: 'PORT' },
    ]);
    assert.deepEqual(facts.envReads, [{ name: 'PORT', line: 4, defaultValue: '5000' }]);
    assert.deepEqual(facts.routes, [{ path: '/health', line: 5 }]);
    assert.deepEqual(facts.imports, [
      { module: 'os', line: 1 },
      { module: 'flask', line: 2 },
    ]);
  });

  it('reads literal ports in app.run / uvicorn.run and inline env defaults', () => {
    const facts = readCode(
      'python',
      lines(
        'app.run(port=5001)',
        'uvicorn.run(app, host="0.0.0.0", port=8000)',
        'uvicorn.run("main:app", port=int(os.getenv("API_PORT", "8001")))',
        'web.run_app(app, port=8080)',
        'app.run(debug=True)',
        'app.run(port=0)',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [
        [5001, 1, undefined],
        [8000, 2, undefined],
        [8001, 3, 'API_PORT'],
        [8080, 4, undefined],
      ],
    );
    assert.equal(facts.ports[1].reason, 'uvicorn.run(port=8000)');
  });

  it('reads os.environ / os.getenv in every form, with defaults', () => {
    const facts = readCode(
      'python',
      lines(
        'import os',
        'db = os.environ["DATABASE_URL"]',
        'redis = os.environ.get("REDIS_URL", "redis://cache:6379/0")',
        'port = os.getenv("PORT", "8000")',
        'debug = os.environ.get("DEBUG") or "false"',
      ),
    );
    assert.deepEqual(facts.envReads, [
      { name: 'DATABASE_URL', line: 2 },
      { name: 'REDIS_URL', line: 3, defaultValue: 'redis://cache:6379/0' },
      { name: 'PORT', line: 4, defaultValue: '8000' },
      { name: 'DEBUG', line: 5, defaultValue: 'false' },
    ]);
    // A bare `os.getenv("PORT", "8000")` is still (weaker) evidence of the service's port.
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[8000, 4, 'PORT']],
    );
    assert.deepEqual(facts.urls, [{ url: 'redis://cache:6379/0', line: 3 }]);
  });

  it('reads client host names from keyword arguments', () => {
    const facts = readCode(
      'python',
      lines(
        'r = redis.Redis(host="cache", port=6379)',
        'conn = psycopg2.connect(host=os.environ.get("DB_HOST", "db"), dbname="app")',
        'app.run(host="0.0.0.0", port=5000)',
      ),
    );
    assert.deepEqual(facts.hosts, [
      { host: 'cache', line: 1 },
      { host: 'db', line: 2 },
    ]);
    assert.deepEqual(
      facts.ports.map((p) => p.port),
      [5000],
    );
  });

  it('does not take a dependency port default as the service port', () => {
    const facts = readCode('python', 'redis_port = int(os.environ.get("REDIS_PORT", 6379))\n');
    assert.deepEqual(facts.ports, []);
    assert.deepEqual(facts.envReads, [{ name: 'REDIS_PORT', line: 1, defaultValue: '6379' }]);
  });

  it('finds fastapi decorators with methods and django url patterns', () => {
    const facts = readCode(
      'python',
      lines(
        'from fastapi import FastAPI, APIRouter',
        '@app.get("/healthz")',
        'async def healthz(): return {"ok": True}',
        '@router.post("/items")',
        'async def create(): ...',
        '@bp.route("/ready", methods=["GET", "HEAD"])',
        'def ready(): ...',
        'urlpatterns = [',
        '    path("health/", views.health),',
        '    re_path(r"^status/$", views.status),',
        '    path("", include("app.urls")),',
        ']',
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/healthz', line: 2, method: 'GET' },
      { path: '/items', line: 4, method: 'POST' },
      { path: '/ready', line: 6, method: 'GET' },
      { path: '/health/', line: 9 },
      { path: '/status/', line: 10 },
      { path: '/', line: 11 },
    ]);
  });

  it('reads flask add_url_rule and starlette Route', () => {
    const facts = readCode(
      'python',
      lines(
        'app.add_url_rule("/health", view_func=health)',
        'routes = [Route("/ready", endpoint=ready, methods=["GET"])]',
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/health', line: 1 },
      { path: '/ready', line: 2, method: 'GET' },
    ]);
  });

  it('reads http.server, gunicorn bind and f-string URLs', () => {
    const facts = readCode(
      'python',
      lines(
        'from http.server import HTTPServer, SimpleHTTPRequestHandler',
        'import sqlalchemy.orm as orm',
        'from .models import User',
        'bind = "0.0.0.0:8002"',
        'httpd = HTTPServer(("", 8003), SimpleHTTPRequestHandler)',
        'url = f"http://{host}:9000/api"',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line]),
      [
        [8002, 4],
        [8003, 5],
      ],
    );
    assert.deepEqual(facts.urls, [{ url: 'http://{host}:9000/api', line: 6 }]);
    assert.deepEqual(
      facts.imports.map((i) => i.module),
      ['http.server', 'sqlalchemy.orm', '.models'],
    );
  });
});
