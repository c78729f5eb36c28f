// Java (Spring, JAX-RS), C# (ASP.NET Core), Ruby (Sinatra, Rails, Puma) and PHP (Laravel, Slim, Symfony) readers.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initCodeReaders, readCode } from '../../server/src/engine/code';

const lines = (...l: string[]): string => l.join('\n');

before(async () => {
  await initCodeReaders(['java', 'csharp', 'ruby', 'php']);
});

describe('code readers: Java', () => {
  it('reads Spring mappings with a class prefix, System.getenv and imports', () => {
    const facts = readCode(
      'java',
      lines(
        'package com.example;',
        'import org.springframework.web.bind.annotation.*;',
        '@RestController',
        '@RequestMapping("/api")',
        'public class HealthController {',
        '  @GetMapping("/health")',
        '  public String health() { return System.getenv("APP_MODE"); }',
        '  @RequestMapping(value = "/items", method = RequestMethod.POST)',
        '  public void create() {}',
        '  @GetMapping(path = {"/ready", "/readyz"})',
        '  public String ready() { return "ok"; }',
        '  String db = "jdbc:postgresql://db:5432/app";',
        '}',
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/api/health', line: 6, method: 'GET' },
      { path: '/api/items', line: 8, method: 'POST' },
      { path: '/api/ready', line: 10, method: 'GET' },
      { path: '/api/readyz', line: 10, method: 'GET' },
    ]);
    assert.deepEqual(facts.envReads, [{ name: 'APP_MODE', line: 7 }]);
    assert.deepEqual(facts.urls, [{ url: 'jdbc:postgresql://db:5432/app', line: 12 }]);
    assert.deepEqual(facts.imports, [{ module: 'org.springframework.web.bind.annotation', line: 2 }]);
    assert.deepEqual(facts.ports, []);
  });

  it('reads JAX-RS paths and embedded server ports', () => {
    const facts = readCode(
      'java',
      lines(
        '@Path("/status")',
        'public class Status {',
        '  @GET',
        '  @Path("/ping")',
        '  public String ping() { return "pong"; }',
        '  void start() throws Exception {',
        '    HttpServer server = HttpServer.create(new InetSocketAddress(8000), 0);',
        '    connector.setPort(8443);',
        '    thread.start();',
        '  }',
        '}',
      ),
    );
    assert.deepEqual(facts.routes, [{ path: '/status/ping', line: 3, method: 'GET' }]);
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line]),
      [
        [8000, 7],
        [8443, 8],
      ],
    );
  });
});

describe('code readers: C#', () => {
  it('reads minimal API routes, Kestrel URLs from env with a fallback, and usings', () => {
    const facts = readCode(
      'csharp',
      lines(
        'using Microsoft.AspNetCore.Builder;',
        'var builder = WebApplication.CreateBuilder(args);',
        'var app = builder.Build();',
        'app.MapGet("/health", () => "ok");',
        'app.MapHealthChecks("/healthz");',
        'var port = Environment.GetEnvironmentVariable("PORT") ?? "8080";',
        'app.Run($"http://0.0.0.0:{port}");',
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/health', line: 4, method: 'GET' },
      { path: '/healthz', line: 5, method: 'GET' },
    ]);
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[8080, 7, 'PORT']],
    );
    assert.deepEqual(facts.envReads, [{ name: 'PORT', line: 6, defaultValue: '8080' }]);
    assert.deepEqual(facts.imports, [{ module: 'Microsoft.AspNetCore.Builder', line: 1 }]);
  });

  it('reads controller attributes with the class route, UseUrls and ListenAnyIP', () => {
    const facts = readCode(
      'csharp',
      lines(
        '[ApiController]',
        '[Route("api/status")]',
        'public class StatusController : ControllerBase {',
        '  [HttpGet("ping")]',
        '  public string Ping() => "pong";',
        '}',
        'public static class Host {',
        '  public static void Configure(IWebHostBuilder b) {',
        '    b.UseUrls("http://*:5000");',
        '    b.ConfigureKestrel(o => o.ListenAnyIP(5001));',
        '  }',
        '}',
      ),
    );
    assert.deepEqual(facts.routes, [{ path: '/api/status/ping', line: 4, method: 'GET' }]);
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line]),
      [
        [5000, 9],
        [5001, 10],
      ],
    );
  });
});

describe('code readers: Ruby', () => {
  it('reads a sinatra app: set :port, routes, ENV and require', () => {
    const facts = readCode(
      'ruby',
      lines(
        "require 'sinatra'",
        'set :port, 4567',
        "get '/health' do",
        "  'ok'",
        'end',
        "post '/items' do; end",
        "db = ENV['DATABASE_URL']",
        "mode = ENV.fetch('RACK_ENV', 'development')",
        "cache = 'redis://cache:6379'",
      ),
    );
    assert.deepEqual(facts.ports, [{ port: 4567, line: 2, reason: 'set :port, 4567' }]);
    assert.deepEqual(facts.routes, [
      { path: '/health', line: 3, method: 'GET' },
      { path: '/items', line: 6, method: 'POST' },
    ]);
    assert.deepEqual(facts.envReads, [
      { name: 'DATABASE_URL', line: 7 },
      { name: 'RACK_ENV', line: 8, defaultValue: 'development' },
    ]);
    assert.deepEqual(facts.urls, [{ url: 'redis://cache:6379', line: 9 }]);
    assert.deepEqual(facts.imports, [{ module: 'sinatra', line: 1 }]);
  });

  it('reads puma port with an ENV fallback and rails routes', () => {
    const facts = readCode(
      'ruby',
      lines(
        'port ENV.fetch("PORT") { 3000 }',
        'Rails.application.routes.draw do',
        '  get "up" => "rails/health#show", as: :rails_health_check',
        "  get '/status', to: 'status#show'",
        '  resources :users',
        'end',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[3000, 1, 'PORT']],
    );
    assert.deepEqual(facts.routes, [
      { path: '/up', line: 3, method: 'GET' },
      { path: '/status', line: 4, method: 'GET' },
    ]);
  });
});

describe('code readers: PHP', () => {
  it('reads Laravel, Slim and Symfony routes, env reads and use imports', () => {
    const facts = readCode(
      'php',
      lines(
        '<?php',
        'use Illuminate\\Support\\Facades\\Route;',
        "Route::get('/health', fn () => 'ok');",
        "$app->get('/healthz', function ($request, $response) { return $response; });",
        "$db = getenv('DATABASE_URL');",
        "$redis = $_ENV['REDIS_URL'];",
        "$name = env('APP_NAME', 'shop');",
        'class S {',
        "  #[Route('/status', methods: ['GET'])]",
        '  public function status() {}',
        '}',
        "$url = 'http://users:3000/api';",
      ),
    );
    assert.deepEqual(facts.routes, [
      { path: '/health', line: 3, method: 'GET' },
      { path: '/healthz', line: 4, method: 'GET' },
      { path: '/status', line: 9, method: 'GET' },
    ]);
    assert.deepEqual(facts.envReads, [
      { name: 'DATABASE_URL', line: 5 },
      { name: 'REDIS_URL', line: 6 },
      { name: 'APP_NAME', line: 7, defaultValue: 'shop' },
    ]);
    assert.deepEqual(facts.urls, [{ url: 'http://users:3000/api', line: 12 }]);
    assert.deepEqual(facts.imports, [{ module: 'Illuminate\\Support\\Facades\\Route', line: 2 }]);
    assert.deepEqual(facts.ports, []);
  });
});
