// Starts code-server (VS Code 1.100.3 in the browser) on 127.0.0.1 with this repository as the development
// extension and the bundled suite as extensionTestsPath, then opens it in Debian's Chromium through playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');
export const CODE_SERVER =
  process.env.KYOZO_CODE_SERVER ?? '/opt/kyozo-code-server/node_modules/code-server/out/node/entry.js';
export const CHROMIUM = process.env.KYOZO_CHROMIUM ?? '/usr/bin/chromium';
const CHROME_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Bundles a suite into one CommonJS module the extension host requires: a file of test/e2e/vscode/ (suite.ts by
 * default) or, given an absolute path, that file.
 */
export async function bundleSuite(outDir: string, suite = 'suite.ts'): Promise<string> {
  const outfile = join(outDir, 'suite', 'index.js');
  const entryPoints = [isAbsolute(suite) ? suite : join(repoRoot, 'test/e2e/vscode', suite)];
  await esbuild.build({
    entryPoints,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    logLevel: 'warning',
  });
  return outfile;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface CodeServer {
  port: number;
  url: string;
  /** The instance's --user-data-dir (VS Code's logs, output channels included, are under logs/). */
  userDataDir: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  /**
   * Keep VS Code's workspace trust on: the folder opens in Restricted Mode (no start-up prompt) until trusted through
   * the workbench. Off by default, as a trusted workspace is what most tests need.
   */
  workspaceTrust?: boolean;
}

export async function startCodeServer(
  folder: string,
  env: Record<string, string>,
  options: CodeServerOptions = {},
): Promise<CodeServer> {
  const port = await freePort();
  const base = mkdtempSync(join(tmpdir(), 'kyozo-cs-'));
  const userData = join(base, 'user-data');
  const extensions = join(base, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions, { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': !!options.workspaceTrust,
        'security.workspace.trust.startupPrompt': 'never',
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'update.mode': 'none',
        'workbench.enableExperiments': false,
        'git.enabled': false,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
      },
      null,
      2,
    ),
  );
  const trust = options.workspaceTrust ? [] : ['--disable-workspace-trust'];
  const child = spawn(
    process.execPath,
    [
      CODE_SERVER,
      '--auth',
      'none',
      ...trust,
      '--disable-telemetry',
      '--disable-update-check',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensions,
      folder,
    ],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  child.stderr!.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}): ${out}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > end) throw new Error(`code-server did not answer on ${url} within 60 s: ${out}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    port,
    url,
    userDataDir: userData,
    process: child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => {
          if (child.exitCode === null) child.kill('SIGKILL');
        }, 5000).unref();
      }),
  };
}

/** The lines of an extension's output channel (by its name) that VS Code logged in a code-server instance. */
export function outputChannelLog(cs: CodeServer, channel: string): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith(`-${channel}.log`)) out.push(readFileSync(join(dir, e.name), 'utf8'));
    }
  };
  walk(join(cs.userDataDir, 'logs'));
  return out.join('\n');
}

/** The pid of a code-server instance's extension host (from its log), or undefined before it started. */
export function extensionHostPid(cs: CodeServer): number | undefined {
  const pid = Number(/<(\d+)> Launched Extension Host Process/.exec(cs.output())?.[1]);
  return pid || undefined;
}

/** Starts one code-server per spec, at once, each with its own port, user-data and extensions dirs. */
export async function startCodeServers(
  specs: { folder: string; env: Record<string, string>; options?: CodeServerOptions }[],
): Promise<CodeServer[]> {
  const started = await Promise.allSettled(specs.map((s) => startCodeServer(s.folder, s.env, s.options)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const r of started) if (r.status === 'fulfilled') await r.value.stop();
    throw failed.reason;
  }
  return started.map((r) => (r as PromiseFulfilledResult<CodeServer>).value);
}

/**
 * The workbench URL that loads this repository as the development extension and runs the suite in it, on `folder`, or
 * on a multi-root workspace when it is a .code-workspace file.
 */
export function workbenchUrl(cs: CodeServer, folder: string, suiteFile: string): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(repoRoot)],
    ['extensionTestsPath', remote(suiteFile)],
  ]);
  const open = folder.endsWith('.code-workspace') ? 'workspace' : 'folder';
  return `${cs.url}/?${open}=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}`;
}

export async function openBrowser(): Promise<{ browser: Browser; page: Page }> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; run bash .ci/machine-setup.sh`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROME_ARGS, headless: true });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  return { browser, page };
}

/** Explorer rows with the decoration badge VS Code draws in a ::after pseudo-element, and its colour. */
export function explorerBadges(page: Page): Promise<{ label: string; badge: string; color: string }[]> {
  return page.evaluate(() => {
    const out: { label: string; badge: string; color: string }[] = [];
    for (const row of Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row'))) {
      const el = row.querySelector('[class*="monaco-decoration-itemBadge-"]');
      if (!el) continue;
      const after = getComputedStyle(el, '::after');
      out.push({
        label: row.getAttribute('aria-label') ?? '',
        badge: after.content.replace(/^"|"$/g, ''),
        color: after.color,
      });
    }
    return out;
  });
}

/** The colour a theme variable resolves to, as the browser reports colours (`rgb(r, g, b)`). */
export function themeColor(page: Page, variable: string): Promise<string> {
  return page.evaluate((v) => {
    const probe = document.createElement('span');
    probe.style.color = `var(${v})`;
    document.querySelector('.monaco-workbench')!.appendChild(probe);
    const c = getComputedStyle(probe).color;
    probe.remove();
    return c;
  }, variable);
}

/** Rows of a view pane (by its title), as their accessible labels. */
export function viewRows(page: Page, title: string): Promise<string[]> {
  return page.evaluate((t) => {
    for (const pane of Array.from(document.querySelectorAll('.pane'))) {
      const header = pane.querySelector('.pane-header .title');
      if (header?.textContent?.trim().toLowerCase() !== t.toLowerCase()) continue;
      return Array.from(pane.querySelectorAll('.monaco-list-row')).map(
        (r) => r.getAttribute('aria-label') ?? r.textContent ?? '',
      );
    }
    return [];
  }, title);
}

/**
 * True when the test must skip because code-server or Chromium is not installed (said in one line); with CI=true their
 * absence is an error instead.
 */
export function codeServerMissing(t: { skip(message?: string): void }): boolean {
  const missing = [CODE_SERVER, CHROMIUM].filter((p) => !existsSync(p));
  if (missing.length && process.env.CI === 'true')
    throw new Error(`missing ${missing.join(', ')} (required when CI=true); run bash .ci/machine-setup.sh`);
  if (!missing.length) return false;
  console.log(`# skipped: ${missing.join(', ')} not installed; run bash .ci/machine-setup.sh`);
  t.skip('code-server or Chromium missing');
  return true;
}

/** Waits for a file the suite writes; stops early when the suite's results.json beside it records an error. */
export async function waitFile(path: string, ms: number, why: () => string): Promise<void> {
  const end = Date.now() + ms;
  const results = join(path, '..', 'results.json');
  while (!existsSync(path)) {
    const failed = existsSync(results) && 'error' in JSON.parse(readFileSync(results, 'utf8'));
    if (failed) throw new Error(`the suite failed: ${why()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${path}: ${why()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
