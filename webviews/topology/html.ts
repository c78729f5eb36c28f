// The panel's HTML, shared by the extension host and the browser test harness so both run under the same CSP.
// No DOM and no vscode import: the extension bundle imports it as plain string building.

export interface TopologyHtmlOptions {
  /** `webview.cspSource` in VS Code; the harness server's origin in tests. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  /** Fresh per page load. */
  nonce: string;
  /** Extra script tags the harness needs before the bundle (VS Code API shim); carry the nonce. */
  preludeScripts?: string[];
  title?: string;
}

export function topologyCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    // The ELK layout worker is started from a blob of the bundle's own text; nothing is fetched.
    'worker-src blob:',
    // data: only for rasterising the exported SVG into a PNG.
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function topologyHtml(o: TopologyHtmlOptions): string {
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const prelude = (o.preludeScripts ?? [])
    .map((src) => `<script nonce="${attr(o.nonce)}" src="${attr(src)}"></script>`)
    .join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${attr(topologyCsp(o.cspSource, o.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link rel="stylesheet" href="${attr(o.styleUri)}">
    <title>${attr(o.title ?? 'Kyozo Topology')}</title>
  </head>
  <body>
    ${prelude}
    <script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
  </body>
</html>
`;
}

/** 32 random alphanumerics; crypto-grade in both Node (webcrypto) and browsers. */
export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => chars[b % chars.length]).join('');
}
