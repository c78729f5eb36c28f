import type { Topology, TopologyChange } from '../protocol';

export interface AnalyzerOptions {
  /** Folder to analyse (absolute or relative to cwd). */
  root: string;
  /** Extra gitignore-style globs to skip, beside .gitignore files and the defaults. */
  extraIgnores?: string[];
  /** Cap on bytes read from any one file (default 512 KiB). */
  maxFileBytes?: number;
}

export interface UpdateResult {
  topology: Topology;
  change: TopologyChange;
}

export interface Analyzer {
  readonly root: string;
  /** Full scan and analysis. */
  analyze(): Promise<Topology>;
  /** Re-analyse only the folders the given paths (absolute or root-relative) affect. */
  update(changedPaths: string[]): Promise<UpdateResult>;
  /** Last topology computed, if any. */
  current(): Topology | undefined;
}

export function createAnalyzer(_options: AnalyzerOptions): Analyzer {
  throw new Error('not implemented yet');
}

export async function analyze(root: string, options: Omit<AnalyzerOptions, 'root'> = {}): Promise<Topology> {
  return createAnalyzer({ ...options, root }).analyze();
}
