// `kyozo k8s [dir] -o <folder>`: Kubernetes manifests for the folder's topology. Engine only: no Docker client is
// loaded. Exit codes as the other commands: 2 bad input, 1 anything else.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  EnvironmentError,
  exportKubernetes,
  KubernetesExportError,
  parseRegistry,
  pushable,
  readWorkspaceConfig,
  registryReference,
  topologyFor,
  writeKubernetesExport,
} from '../engine';
import type { Builder } from '../engine';
import type { Service, Topology } from '../protocol';
import { parseBaseImages } from './cli-input';
import { loadTopology } from './analyze-commands';

interface K8sFlags {
  output: string;
  env?: string;
  registry?: string;
  tag?: string;
  builder?: string;
  baseImage: string[];
  namespace?: string;
  project?: string;
  ingressClass?: string;
  ingressDomain?: string;
  force?: boolean;
  ignore: string[];
}

function fail(message: string): never {
  process.stderr.write(`kyozo: ${message}\n`);
  process.exit(2);
}

/** A relative -o that climbs out of the current folder is refused: an absolute path says that is meant. */
function outputFolder(output: string): string {
  const path = resolve(output);
  const rel = relative(process.cwd(), path);
  if (!isAbsolute(output) && (rel.startsWith('..') || isAbsolute(rel)))
    fail(`-o ${output} is outside the current folder; give it as an absolute path (${path}) if that is meant`);
  if (existsSync(path) && !statSync(path).isDirectory())
    fail(`-o ${output} is a file, not a folder; give -o a folder to write the manifests into`);
  return path;
}

/** --registry, else KYOZO_REGISTRY, else the root kyozo.yaml's registry: (the same order as kyozo push). */
function registryOf(topology: Topology, flags: K8sFlags): string | undefined {
  try {
    return (
      parseRegistry(flags.registry, '--registry') ??
      parseRegistry(process.env.KYOZO_REGISTRY, 'KYOZO_REGISTRY') ??
      parseRegistry(readWorkspaceConfig(topology.root).registry, 'registry: in kyozo.yaml')
    );
  } catch (e) {
    fail((e as Error).message);
  }
}

/** The reference `kyozo push` gives each built service: its content hash needs no engine, only the files. */
function pushedReferences(topology: Topology, registry: string, flags: K8sFlags): Record<string, string> {
  if (flags.builder !== 'buildkit' && flags.builder !== 'classic')
    fail(`--builder must be buildkit or classic (the builder kyozo push used), got '${flags.builder}'`);
  const builder: Builder = flags.builder;
  let baseImages;
  try {
    baseImages = parseBaseImages(flags.baseImage);
  } catch (e) {
    fail((e as Error).message);
  }
  const ctx = { registry, project: flags.project ?? topology.name, baseImages, builder };
  const images: Record<string, string> = {};
  for (const s of topology.services.filter((x: Service) => pushable(x)))
    images[s.id] = registryReference(ctx, topology, s);
  return images;
}

export function registerK8sCommands(program: Command): void {
  program
    .command('k8s')
    .description(
      'write Kubernetes manifests for the folder: Deployments (StatefulSets for databases), Services, ConfigMaps, ' +
        'Secret references, HorizontalPodAutoscalers from kyozo.yaml scaling, an Ingress, and a kustomization.yaml',
    )
    .argument('[dir]', 'folder to analyse', '.')
    .option('-o, --output <folder>', 'folder to write the manifests into', 'k8s')
    .option(
      '--registry <prefix>',
      "registry of built images, e.g. registry.example.com/team (default: KYOZO_REGISTRY, then the root kyozo.yaml's " +
        'registry:); images are then named as kyozo push names them: <registry>/<project>/<service>:<content hash>',
    )
    .option('--tag <tag>', 'tag of built images instead of their content hash (default without a registry: latest)')
    .option('--builder <builder>', 'builder the content hash is computed for, as kyozo push used it', 'buildkit')
    .option(
      '--base-image <runtime=image>',
      'base image of generated Dockerfiles, as kyozo push used it (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--env <name>', "apply a deployment environment of the root kyozo.yaml's environments: (its overrides)")
    .option('--namespace <ns>', 'namespace for every object (adds namespace.yaml)')
    .option('--project <name>', 'workspace name in image names and labels (default: the folder name)')
    .option('--ingress-class <class>', "Ingress class (default: the cluster's default)")
    .option('--ingress-domain <domain>', 'serve each entry service on <service>.<domain>')
    .option('--force', 'overwrite files in the output folder that Kyozo did not write')
    .option(
      '--ignore <glob>',
      'extra gitignore-style pattern to skip (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .action(async (dir: string, flags: K8sFlags) => {
      const folder = outputFolder(flags.output);
      let topology = await loadTopology(dir, flags.ignore);
      try {
        const registry = registryOf(topology, flags);
        topology = topologyFor(topology, flags.env);
        const out = exportKubernetes(topology, {
          registry,
          images: registry && flags.tag === undefined ? pushedReferences(topology, registry, flags) : undefined,
          tag: flags.tag,
          namespace: flags.namespace,
          project: flags.project,
          ingressClass: flags.ingressClass,
          ingressDomain: flags.ingressDomain,
        });
        const result = writeKubernetesExport(out, folder, { force: flags.force });
        const shown = (p: string) => relative(process.cwd(), p) || '.';
        for (const f of out.files)
          process.stdout.write(`wrote ${shown(resolve(folder, f.name))}  ${f.objects.join(', ')}\n`);
        for (const p of result.removed) process.stdout.write(`removed ${shown(p)} (its service is gone)\n`);
        for (const s of out.skipped) process.stdout.write(`skipped ${s.service}: ${s.reason}\n`);
        for (const n of out.notes) process.stdout.write(`note: ${n}\n`);
        if (out.secrets.length) {
          process.stdout.write('Create these Secrets before applying (Kyozo writes no secret values):\n');
          const ns = flags.namespace ? ` -n ${flags.namespace}` : '';
          for (const s of out.secrets)
            process.stdout.write(
              `  kubectl create secret generic ${s.name}${ns} ${s.keys.map((k) => `--from-literal=${k}=...`).join(' ')}\n`,
            );
        }
        process.stdout.write(`Apply with: kubectl apply -k ${shown(folder)}\n`);
      } catch (err) {
        if (err instanceof KubernetesExportError || err instanceof EnvironmentError) fail(err.message);
        throw err;
      }
    });
}
