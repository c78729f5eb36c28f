// What each window of vscode-share-two-windows.test.ts types (shared by the suite and the outer test, which checks it).

/** Letters of the window's own case (host lower, guest upper), a line break every 40 keystrokes. */
export function keystrokes(role: 'host' | 'guest', n: number): string[] {
  const base = role === 'host' ? 97 : 65;
  return Array.from({ length: n }, (_, i) => ((i + 1) % 40 === 0 ? '\n' : String.fromCharCode(base + (i % 26))));
}
