// Benchmark of the tree-sitter code readers: per language, median and p99 time to read one entry file (parse + facts),
// side by side with the floor measured in the same run (tree-sitter parse alone, tree deleted), plus memory after
// thousands of reads (WASM heap must not grow without bound). Bounded: a fixed number of reads per language.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadavg } from 'node:os';
import {
  allCodeLanguages,
  initCodeReaders,
  languageForFile,
  readCode,
  type CodeLanguage,
} from '../../server/src/engine/code';
import { parserFor } from '../../server/src/engine/code/grammar-runtime';

const root = join(import.meta.dirname ?? __dirname, '..', '..');
const rounds = Number(process.env.KYOZO_BENCH_ROUNDS ?? 200);
// Extraction may cost at most 1.5 parses on top of the parse (a ratio, so a loaded shared machine cancels out).
const targetRatio = 2.5;
const targetRssGrowthMb = 50;

// A typical entry file of ~8 KB per language: imports, env reads, 40 routes, one listen.
function entryFile(language: CodeLanguage): string {
  const n = Array.from({ length: 40 }, (_, i) => i);
  switch (language) {
    case 'javascript':
    case 'typescript':
    case 'tsx':
      return [
        "import express from 'express';",
        "import pg from 'pg';",
        'const PORT = process.env.PORT || 3000;',
        "const db = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://db:5432/app' });",
        'const app = express();',
        ...n.map(
          (i) =>
            `app.get('/items/${i}', async (req, res) => { const r = await db.query('select ${i}'); res.json({ id: ${i}, rows: r.rows, upstream: \`http://svc${i}:3000/x\` }); });`,
        ),
        "app.listen(PORT, () => console.log('listening on', PORT));",
      ].join('\n');
    case 'python':
      return [
        'import os',
        'from fastapi import FastAPI',
        'import uvicorn',
        'app = FastAPI()',
        'DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://db:5432/app")',
        ...n.flatMap((i) => [
          `@app.get("/items/${i}")`,
          `async def item_${i}(q: str | None = None):`,
          `    return {"id": ${i}, "q": q, "upstream": f"http://svc${i}:8000/x"}`,
        ]),
        'if __name__ == "__main__":',
        '    uvicorn.run(app, host="0.0.0.0", port=int(os.getenv("PORT", "8000")))',
      ].join('\n');
    case 'go':
      return [
        'package main',
        'import (',
        '\t"net/http"',
        '\t"os"',
        '\t"github.com/gin-gonic/gin"',
        ')',
        'func main() {',
        '\tport := os.Getenv("PORT")',
        '\tif port == "" {',
        '\t\tport = "8080"',
        '\t}',
        '\tr := gin.Default()',
        ...n.map(
          (i) =>
            `\tr.GET("/items/${i}", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"id": ${i}, "up": "http://svc${i}:8080/x"}) })`,
        ),
        '\tr.Run(":" + port)',
        '}',
      ].join('\n');
    case 'rust':
      return [
        'use axum::{routing::get, Router};',
        'use std::env;',
        '#[tokio::main]',
        'async fn main() {',
        '    let app = Router::new()',
        ...n.map(
          (i) => `        .route("/items/${i}", get(|| async { format!("{} {}", ${i}, "http://svc${i}:3000/x") }))`,
        ),
        '    ;',
        '    let port = env::var("PORT").unwrap_or_else(|_| "3000".to_string());',
        '    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{}", port)).await.unwrap();',
        '    axum::serve(listener, app).await.unwrap();',
        '}',
      ].join('\n');
    case 'java':
      return [
        'package com.example;',
        'import org.springframework.web.bind.annotation.*;',
        '@RestController',
        '@RequestMapping("/api")',
        'public class ItemsController {',
        ...n.flatMap((i) => [
          `  @GetMapping("/items/${i}")`,
          `  public String item${i}() { return System.getenv("ITEM_${i}") + "http://svc${i}:8080/x"; }`,
        ]),
        '}',
      ].join('\n');
    case 'ruby':
      return [
        "require 'sinatra'",
        "set :port, ENV.fetch('PORT', 4567)",
        ...n.flatMap((i) => [`get '/items/${i}' do`, `  "#{ENV['ITEM_${i}']} http://svc${i}:4567/x"`, 'end']),
        '',
      ].join('\n');
    case 'php':
      return [
        '<?php',
        'use Illuminate\\Support\\Facades\\Route;',
        ...n.map(
          (i) =>
            `Route::get('/items/${i}', function () { return ['id' => ${i}, 'up' => 'http://svc${i}:8080/x', 'env' => getenv('ITEM_${i}')]; });`,
        ),
      ].join('\n');
    case 'csharp':
      return [
        'using Microsoft.AspNetCore.Builder;',
        'var builder = WebApplication.CreateBuilder(args);',
        'var app = builder.Build();',
        ...n.map(
          (i) =>
            `app.MapGet("/items/${i}", () => new { Id = ${i}, Up = "http://svc${i}:8080/x", Env = Environment.GetEnvironmentVariable("ITEM_${i}") });`,
        ),
        'var port = Environment.GetEnvironmentVariable("PORT") ?? "8080";',
        'app.Run($"http://0.0.0.0:{port}");',
      ].join('\n');
    case 'kotlin':
      return [
        'import io.ktor.server.engine.*',
        'import io.ktor.server.netty.*',
        'import io.ktor.server.routing.*',
        'fun main() {',
        '  embeddedServer(Netty, port = System.getenv("PORT")?.toInt() ?: 8080) {',
        '    routing {',
        ...n.map(
          (i) => `      get("/items/${i}") { call.respondText("http://svc${i}:8080/x" + System.getenv("ITEM_${i}")) }`,
        ),
        '    }',
        '  }.start(wait = true)',
        '}',
      ].join('\n');
  }
}

function fixtureFiles(): Map<CodeLanguage, string[]> {
  const out = new Map<CodeLanguage, string[]>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const lang = languageForFile(p);
        if (lang) out.set(lang, [...(out.get(lang) ?? []), readFileSync(p, 'utf8')]);
      }
    }
  };
  walk(join(root, 'test', 'fixtures'));
  return out;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1000;
}

async function main(): Promise<void> {
  const loadStart = performance.now();
  await initCodeReaders(allCodeLanguages);
  const loadMs = performance.now() - loadStart;
  const fixtures = fixtureFiles();
  const rssBefore = process.memoryUsage().rss;
  let reads = 0;
  let failed = false;
  console.log(
    `code readers: ${rounds} reads per language and corpus; runtime + ${allCodeLanguages.length} grammars loaded in ${loadMs.toFixed(0)} ms`,
  );
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (absolute times scale with it; the ratio does not)`,
  );
  console.log('language     corpus          bytes  floor p50 µs  ours p50 µs  ours p99 µs  ratio  target ratio');
  for (const language of allCodeLanguages) {
    const corpora: [string, string[]][] = [['entry ~8KB', [entryFile(language)]]];
    const small = fixtures.get(language);
    if (small?.length) corpora.push([`fixtures (${small.length})`, small]);
    for (const [name, files] of corpora) {
      const parser = parserFor(language)!;
      const floor: number[] = [];
      const ours: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const src = files[i % files.length];
        floor.push(time(() => parser.parse(src)?.delete()));
        ours.push(time(() => readCode(language, src)));
        reads++;
      }
      floor.sort((a, b) => a - b);
      ours.sort((a, b) => a - b);
      const bytes = Math.round(files.reduce((s, f) => s + f.length, 0) / files.length);
      const p50 = percentile(ours, 0.5);
      const ratio = p50 / percentile(floor, 0.5);
      const ok = ratio <= targetRatio;
      if (!ok) failed = true;
      console.log(
        [
          language.padEnd(12),
          name.padEnd(15),
          String(bytes).padStart(6),
          percentile(floor, 0.5).toFixed(0).padStart(13),
          p50.toFixed(0).padStart(12),
          percentile(ours, 0.99).toFixed(0).padStart(12),
          ratio.toFixed(2).padStart(6),
          `≤ ${targetRatio}`.padStart(12),
          ok ? '  ok' : '  OVER TARGET',
        ].join(' '),
      );
    }
  }
  // Memory: keep reading the big entry files; resident memory must settle (trees are deleted, facts are small).
  const sample = allCodeLanguages.map((l) => [l, entryFile(l)] as const);
  for (let i = 0; i < 3000; i++) {
    const [l, src] = sample[i % sample.length];
    readCode(l, src);
    reads++;
  }
  const growthMb = (process.memoryUsage().rss - rssBefore) / 1048576;
  const rssOk = growthMb <= targetRssGrowthMb;
  if (!rssOk) failed = true;
  console.log(
    `memory: ${reads} reads, RSS ${(rssBefore / 1048576).toFixed(0)} MB → ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB ` +
      `(growth ${growthMb.toFixed(1)} MB, target ≤ ${targetRssGrowthMb} MB)${rssOk ? '  ok' : '  OVER TARGET'}`,
  );
  console.log(
    `floor = tree-sitter parse alone on the same text; ours = parse + fact extraction + tree delete. Root: ${relative(process.cwd(), root) || '.'}`,
  );
  process.exitCode = failed ? 1 : 0;
}

void main();
