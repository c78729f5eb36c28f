// The engine's public surface: everything outside server/src/engine imports from here.
export { createAnalyzer, analyze, AnalyzeInputError } from './analyzer';
export type { Analyzer, AnalyzerOptions, UpdateResult } from './analyzer';
