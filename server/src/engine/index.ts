// The engine's public surface: everything outside server/src/engine imports from here.
export { createAnalyzer, analyze, AnalyzeInputError } from './analyzer';
export type { Analyzer, AnalyzerOptions, UpdateResult } from './analyzer';
export { DEFAULT_IGNORED_DIRS, DEFAULT_MAX_FILE_BYTES } from './scan/default-ignores';
export { WorkspaceFileError, WorkspaceFiles, utf8 } from './scan/workspace-files';
