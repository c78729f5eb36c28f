// Starts `kyozo mcp` from source (tsx) as a child process and connects the SDK's real Client to it over stdio.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const CLI = join(__dirname, '..', '..', 'server', 'src', 'cli', 'main.ts');

export interface McpSession {
  client: Client;
  /** What the server wrote to stderr (its start line, errors). */
  stderr: () => string;
  close: () => Promise<void>;
}

export async function startMcp(
  dir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI, 'mcp', dir, ...extra],
    env: { ...(process.env as Record<string, string>), NO_COLOR: '1', ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'kyozo-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => err, close: () => client.close() };
}

/** The first text block of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.find((c) => c.type === 'text')?.text ?? '';
}
