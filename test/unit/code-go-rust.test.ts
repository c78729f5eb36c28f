// Go and Rust readers: listen addresses (literal, env with fallback, Sprintf/format!), routes, env reads, imports.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initCodeReaders, readCode } from '../../server/src/engine/code';

const lines = (...l: string[]): string => l.join('\n');

before(async () => {
  await initCodeReaders(['go', 'rust']);
});

describe('code readers: Go', () => {
  it('reads net/http with an os.Getenv fallback assignment', () => {
    const facts = readCode(
      'go',
      lines(
        'package main',
        '',
        'import (',
        '\t"net/http"',
        '\t"os"',
        '\t_ "github.com/lib/pq"',
        ')',
        '',
        'func main() {',
        '\tport := os.Getenv("PORT")',
        '\tif port == "" {',
        '\t\tport = "8080"',
        '\t}',
        '\thttp.HandleFunc("/healthz", health)',
        '\thttp.ListenAndServe(":"+port, nil)',
        '}',
      ),
    );
    assert.deepEqual(facts.ports, [
      {
        port: 8080,
        line: 15,
        reason: 'http.ListenAndServe(":"+port), port = os.Getenv("PORT") / "8080"',
        envVar: 'PORT',
      },
    ]);
    assert.deepEqual(facts.envReads, [{ name: 'PORT', line: 10, defaultValue: '8080' }]);
    assert.deepEqual(facts.routes, [{ path: '/healthz', line: 14 }]);
    assert.deepEqual(
      facts.imports.map((i) => [i.module, i.line]),
      [
        ['net/http', 4],
        ['os', 5],
        ['github.com/lib/pq', 6],
      ],
    );
  });

  it('reads gin, echo, fiber and http.Server addresses', () => {
    const facts = readCode(
      'go',
      lines(
        'func main() {',
        '\tr := gin.Default()',
        '\tr.GET("/health", func(c *gin.Context) { c.String(200, "ok") })',
        '\tgo r.Run(":8081")',
        '\te := echo.New()',
        '\te.Logger.Fatal(e.Start(":1323"))',
        '\tapp := fiber.New()',
        '\tapp.Get("/ready", ready)',
        '\tlog.Fatal(app.Listen("0.0.0.0:3000"))',
        '\tsrv := &http.Server{Addr: fmt.Sprintf(":%s", os.Getenv("ADMIN_PORT")), Handler: mux}',
        '\tsrv2 := &http.Server{Addr: ":9090"}',
        '\tmux.HandleFunc("GET /livez", live)',
        '\tcmd.Run()',
        '\tr.Run()',
        '}',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line]),
      [
        [8081, 4],
        [1323, 6],
        [3000, 9],
        [9090, 11],
      ],
    );
    assert.deepEqual(facts.routes, [
      { path: '/health', line: 3, method: 'GET' },
      { path: '/ready', line: 8, method: 'GET' },
      { path: '/livez', line: 12, method: 'GET' },
    ]);
    assert.deepEqual(facts.envReads, [{ name: 'ADMIN_PORT', line: 10 }]);
  });

  it('prefixes routes registered on gin/echo groups', () => {
    const facts = readCode(
      'go',
      lines(
        'func main() {',
        '\tr := gin.Default()',
        '\tapi := r.Group("/api")',
        '\tv1 := api.Group("/v1/")',
        '\tv1.GET("/health", health)',
        '\tapi.GET("/", index)',
        '\tr.GET("/livez", live)',
        '}',
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/api/v1/health', line: 5, method: 'GET' },
      { path: '/api', line: 6, method: 'GET' },
      { path: '/livez', line: 7, method: 'GET' },
    ]);
  });

  it('reads Addr of a client config as a host, not as a listen port', () => {
    const facts = readCode(
      'go',
      lines(
        'package main',
        'func main() {',
        '\trdb := redis.NewClient(&redis.Options{Addr: "cache:6379"})',
        '\tsrv := &http.Server{Addr: ":8080"}',
        '}',
      ),
    );
    assert.deepEqual(facts.ports, [{ port: 8080, line: 4, reason: 'http.Server{Addr: ":8080"}' }]);
    assert.deepEqual(facts.hosts, [{ host: 'cache', line: 3, port: 6379 }]);
  });

  it('collects Go URL literals including raw strings', () => {
    const facts = readCode(
      'go',
      lines(
        'package main',
        'const dsn = "postgres://app:secret@db:5432/app?sslmode=disable"',
        'var users = `http://users:3000`',
        'var bad = ":8080x"',
      ),
    );
    assert.deepEqual(facts.urls, [
      { url: 'postgres://app:secret@db:5432/app?sslmode=disable', line: 2 },
      { url: 'http://users:3000', line: 3 },
    ]);
    assert.deepEqual(facts.ports, []);
  });
});

describe('code readers: Rust', () => {
  it('reads actix bind tuples, routes by attribute and env::var with a default', () => {
    const facts = readCode(
      'rust',
      lines(
        'use actix_web::{get, web, App, HttpServer, Responder};',
        'use std::env;',
        '#[get("/health")]',
        'async fn health() -> impl Responder { "ok" }',
        '#[actix_web::main]',
        'async fn main() -> std::io::Result<()> {',
        '    let port: u16 = env::var("PORT").unwrap_or("8080".into()).parse().unwrap();',
        '    HttpServer::new(|| App::new().service(health))',
        '        .bind(("0.0.0.0", port))?',
        '        .run()',
        '        .await',
        '}',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[8080, 9, 'PORT']],
    );
    assert.deepEqual(facts.envReads, [{ name: 'PORT', line: 7, defaultValue: '8080' }]);
    assert.deepEqual(facts.routes, [{ path: '/health', line: 3, method: 'GET' }]);
    assert.deepEqual(facts.imports, [
      { module: 'actix_web', line: 1 },
      { module: 'std', line: 2 },
    ]);
  });

  it('reads axum: SocketAddr::from, TcpListener::bind, format! addresses and .route', () => {
    const facts = readCode(
      'rust',
      lines(
        'use axum::{routing::get, Router};',
        'async fn main() {',
        '    let app = Router::new().route("/healthz", get(health)).route("/items", post(create));',
        '    let addr = SocketAddr::from(([0, 0, 0, 0], 3000));',
        '    axum::Server::bind(&addr).serve(app.into_make_service()).await.unwrap();',
        '    let listener = tokio::net::TcpListener::bind("0.0.0.0:3001").await.unwrap();',
        '    let port = std::env::var("METRICS_PORT").unwrap_or_else(|_| "9100".to_string());',
        '    let metrics = TcpListener::bind(format!("0.0.0.0:{}", port)).await?;',
        '    warp::serve(routes).run(([127, 0, 0, 1], 3030)).await;',
        '    let redis = "redis://cache:6379";',
        '}',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [
        [3000, 4, undefined],
        [3001, 6, undefined],
        [9100, 8, 'METRICS_PORT'],
        [3030, 9, undefined],
      ],
    );
    assert.deepEqual(facts.routes, [
      { path: '/healthz', line: 3, method: 'GET' },
      { path: '/items', line: 3, method: 'POST' },
    ]);
    assert.deepEqual(facts.envReads, [{ name: 'METRICS_PORT', line: 7, defaultValue: '9100' }]);
    assert.deepEqual(facts.urls, [{ url: 'redis://cache:6379', line: 10 }]);
  });

  it('does not read sqlx .bind(value) as a listen address', () => {
    const facts = readCode(
      'rust',
      lines(
        'let id = 42;',
        'sqlx::query("SELECT * FROM users WHERE id = $1").bind(id).fetch_one(&pool).await?;',
        'sqlx::query("x").bind(5432).execute(&pool).await?;',
      ),
    );
    assert.deepEqual(facts.ports, []);
  });
});
