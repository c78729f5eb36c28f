// Starts dist/server.js over IPC and keeps its settings in sync with `kyozo.*`.
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { EngineCommandNames, type InitializationOptions, type KyozoSettings } from '../../server/src/protocol';
import { allowedByTrust } from './workspace-trust';

const INDICATORS =
  '**/{Dockerfile,Dockerfile.*,*.dockerfile,package.json,requirements*.txt,pyproject.toml,go.mod,Cargo.toml,nginx.conf,kyozo.yaml,kyozo.yml,Procfile,.env,.env.*,docker-compose*.yml,docker-compose*.yaml,compose*.yml,compose*.yaml}';

export function readSettings(): KyozoSettings {
  const c = vscode.workspace.getConfiguration('kyozo');
  return {
    docker: { host: c.get<string>('docker.host') || undefined },
    baseImages: c.get<Record<string, string>>('baseImages') ?? {},
    build: { builder: c.get<'auto' | 'buildkit' | 'classic'>('build.builder') ?? 'auto' },
    defaults: { memoryMb: c.get<number>('defaults.memoryMb'), cpus: c.get<number>('defaults.cpus') },
    deploy: { parallelism: c.get<number>('deploy.parallelism') },
    images: { gateway: c.get<string>('images.gateway') || undefined },
    environment: c.get<string>('environment') || undefined,
    registry: c.get<string>('registry') || undefined,
    ignore: c.get<string[]>('ignore') ?? [],
    autoDeploy: c.get<boolean>('autoDeploy') ?? false,
  };
}

export function createLanguageClient(context: vscode.ExtensionContext, output: vscode.OutputChannel): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  // A larger young generation keeps scavenges rare while requests allocate, which keeps hover/CodeLens p99 low on
  // large topologies (bench:lsp); it costs a few MB of RSS at most.
  const execArgv = ['--max-semi-space-size=32'];
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { execArgv } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...execArgv, '--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', pattern: INDICATORS }],
    // Read when the server starts, so trust granted before that is already included.
    initializationOptions: (): InitializationOptions => ({
      settings: readSettings(),
      workspaceTrusted: vscode.workspace.isTrusted,
    }),
    outputChannel: output,
    synchronize: { configurationSection: 'kyozo' },
    middleware: {
      // CodeLens and code actions run server commands directly: engine commands are refused here in Restricted Mode.
      executeCommand: (command, args, next) => {
        const name = EngineCommandNames[command];
        return name && !allowedByTrust(name) ? undefined : next(command, args);
      },
    },
  };
  return new LanguageClient('kyozo', 'Kyozo', serverOptions, clientOptions);
}
