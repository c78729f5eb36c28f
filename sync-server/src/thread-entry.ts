// Where a worker thread of the sync server starts: the built file beside the running bundle (dist/sync-server.js,
// dist/cli-sync.js and the image's /app/sync-server.js all have their threads next to them), or the TypeScript
// source when the server itself runs from source through tsx (the tests, `tsx sync-server/src/main.ts`).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Each thread: its bundle (an esbuild.mjs entry) and its source, relative to sync-server/src. */
const THREADS = {
  'sqlite-writer': { built: 'sync-sqlite-writer.js', source: join('store', 'sqlite-writer-thread.ts') },
  'frame-verifier': { built: 'sync-frame-verifier.js', source: 'frame-verifier-thread.ts' },
} as const;

export type SyncThread = keyof typeof THREADS;

export interface ThreadEntry {
  filename: string;
  execArgv?: string[];
}

/** The file `thread` starts from; throws, naming the file and how to get it, when a bundle lacks it. */
export function threadEntry(thread: SyncThread): ThreadEntry {
  if (__filename.endsWith('.ts')) {
    // tsx's --import hook does not reach worker threads on Node 20; its require hook does. Resolved through
    // createRequire so esbuild leaves the development-only package out of the bundles, without a warning.
    const tsx = createRequire(__filename).resolve('tsx/cjs');
    return { filename: join(__dirname, THREADS[thread].source), execArgv: ['--require', tsx] };
  }
  const filename = join(__dirname, THREADS[thread].built);
  if (!existsSync(filename)) {
    throw new Error(
      `the sync server's ${thread} thread is missing: ${filename} does not exist. It is built beside ` +
        `${__filename} by \`npm run build\` (or sync-server/build-image.sh); copy it along with the bundle.`,
    );
  }
  return { filename };
}
