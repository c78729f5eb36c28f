// The engine's public surface: everything outside server/src/engine imports from here.
export { createAnalyzer, analyze, AnalyzeInputError } from './analyzer';
export type { Analyzer, AnalyzerOptions, UpdateResult } from './analyzer';
export { DEFAULT_IGNORED_DIRS, DEFAULT_MAX_FILE_BYTES } from './scan/default-ignores';
export { WorkspaceFileError, WorkspaceFiles, utf8 } from './scan/workspace-files';
export { describeFolder, FolderDescriber, FolderNotFoundError } from './context/folder-describer';
export type { RedescribeResult } from './context/folder-describer';
export { FOLDER_PURPOSES } from './context/folder-description';
export type * from './context/folder-description';
export { DEFAULT_MAP_BUDGET, repoMap } from './context/repo-map';
export type { RepoMap, RepoMapOptions } from './context/repo-map';
