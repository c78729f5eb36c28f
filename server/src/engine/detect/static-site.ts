// A plain static site: an index.html at the folder root, served as files.
import { ev } from '../parse/evidence';
import type { Finding, FolderView } from './types';

export function detectStatic(folder: FolderView): Finding | undefined {
  if (!folder.has('index.html')) return undefined;
  const file = folder.rel('index.html');
  return {
    detector: 'static',
    type: 'static',
    rank: 2,
    language: 'html',
    frameworks: [],
    confidence: 0.5,
    runnable: true,
    frontend: true,
    evidence: [ev(file, 'index.html at the folder root: a static site')],
    indicators: [file],
    ports: [
      {
        container: 80,
        protocol: 'tcp',
        source: 'framework-default',
        evidence: ev(file, 'static files are served on 80'),
      },
    ],
    build: { runtime: 'static', evidence: ev(file, 'static site') },
  };
}
