// Plays the extension's side of the topology webview protocol in a real Chromium: serves the built bundle under
// the panel's own CSP (same HTML builder as the extension), shims acquireVsCodeApi to record what the webview
// posts, and lets tests send host messages.
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostToWebviewMessage, WebviewToHostMessage, WebviewViewState } from '../../../server/src/protocol';
import { makeNonce, topologyHtml } from '../../../webviews/topology/html';
import { THEMES } from './themes';

const root = join(__dirname, '..', '..', '..');
const dist = join(root, 'dist', 'webviews');

export type Theme = keyof typeof THEMES;

export interface Harness {
  origin: string;
  close(): Promise<void>;
}

/** Serves /, /shim.js and /dist/* on 127.0.0.1 only. */
export async function startHarness(): Promise<Harness> {
  if (!existsSync(join(dist, 'topology.js')))
    throw new Error(`${dist}/topology.js is missing: run \`npm run build\` first.`);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/') {
      const nonce = makeNonce();
      const q = url.search;
      let page = topologyHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}/dist/topology.js`,
        styleUri: `${origin}/dist/topology.css`,
        preludeScripts: [`${origin}/shim.js${q}`],
      });
      // A host whose CSP forbids workers: the panel must still lay the graph out (without ELK).
      if (url.searchParams.get('noWorker')) page = page.replace('; worker-src blob:', '');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    } else if (url.pathname === '/shim.js') {
      const theme = THEMES[(url.searchParams.get('theme') as Theme) ?? 'light'] ?? THEMES.light;
      const state = url.searchParams.get('state');
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(shim(theme.bodyClass, theme.vars, state ? JSON.parse(state) : undefined));
    } else if (url.pathname.startsWith('/dist/') && /^[\w.-]+$/.test(url.pathname.slice(6))) {
      const file = join(dist, url.pathname.slice(6));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': file.endsWith('.css')
          ? 'text/css'
          : file.endsWith('.js')
            ? 'text/javascript'
            : 'application/json',
      });
      res.end(readFileSync(file));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function shim(bodyClass: string, vars: Record<string, string>, state: unknown): string {
  return `(() => {
  const h = window.__harness = { posted: [], state: ${JSON.stringify(state ?? null)}, violations: [], setStateCalls: 0 };
  document.addEventListener('securitypolicyviolation', (e) => h.violations.push(e.violatedDirective + ' ' + e.blockedURI));
  document.body.classList.add(${JSON.stringify(bodyClass)});
  const vars = ${JSON.stringify(vars)};
  for (const k in vars) document.documentElement.style.setProperty(k, vars[k]);
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi called twice');
    acquired = true;
    return {
      postMessage: (m) => h.posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => h.state,
      setState: (s) => { h.state = JSON.parse(JSON.stringify(s)); h.setStateCalls++; },
    };
  };
})();`;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export class WebviewPage {
  readonly errors: string[] = [];
  constructor(readonly page: Page) {
    page.on('pageerror', (e) => this.errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(m.text());
    });
  }

  static async open(
    browser: Browser,
    h: Harness,
    opts: { theme?: Theme; state?: WebviewViewState; width?: number; height?: number; noWorker?: boolean } = {},
  ): Promise<WebviewPage> {
    const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 760 } });
    const wp = new WebviewPage(page);
    const q = new URLSearchParams({ theme: opts.theme ?? 'light' });
    if (opts.state) q.set('state', JSON.stringify(opts.state));
    if (opts.noWorker) q.set('noWorker', '1');
    await page.goto(`${h.origin}/?${q}`);
    await page.waitForFunction(() =>
      (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some(
        (m) => m.type === 'ready',
      ),
    );
    return wp;
  }

  send(message: HostToWebviewMessage): Promise<void> {
    return this.page.evaluate((m) => window.postMessage(m, '*'), message as unknown as Record<string, unknown>);
  }

  posted(): Promise<WebviewToHostMessage[]> {
    return this.page.evaluate(
      () => (window as unknown as { __harness: { posted: WebviewToHostMessage[] } }).__harness.posted,
    );
  }

  savedState(): Promise<WebviewViewState | null> {
    return this.page.evaluate(
      () => (window as unknown as { __harness: { state: WebviewViewState | null } }).__harness.state,
    );
  }

  violations(): Promise<string[]> {
    return this.page.evaluate(
      () => (window as unknown as { __harness: { violations: string[] } }).__harness.violations,
    );
  }

  /** Waits until the ELK layout has been applied (and the glide animation has finished). */
  async settled(): Promise<void> {
    await this.page.waitForFunction(() => document.body.dataset.layout === 'elk');
    await this.page.waitForTimeout(350);
  }
}
