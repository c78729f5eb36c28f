// Non-TypeScript imports esbuild resolves for the webview bundle.
declare module '*.css';
declare module 'elkjs/lib/elk-worker.min.js' {
  /** The worker script's source text (imported `with { type: 'text' }`). */
  const source: string;
  export default source;
}
