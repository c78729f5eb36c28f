// The one way a service is looked up in a Topology, by id, name, folder, indicator file or Dockerfile: the CLI, the
// language server and the deploy use cases all ask here, so a name means the same service everywhere.
import { posix } from 'node:path';
import type { Service, Topology } from '../../protocol';

export class UnknownServiceError extends Error {
  constructor(
    readonly ref: string,
    topology: Topology,
  ) {
    const known = topology.services.map((x) => x.name).join(', ') || '(none)';
    super(`no service '${ref}' in ${topology.root}; known: ${known}`);
  }
}

const indexes = new WeakMap<Topology, ServiceIndex>();

export class ServiceIndex {
  private readonly ids = new Map<string, Service>();
  private readonly names = new Map<string, Service>();
  private readonly folders = new Map<string, Service>();
  private readonly indicators = new Map<string, Service>();
  private readonly dockerfiles = new Map<string, Service>();

  /** One index per topology object, built on first use, so lookups stay O(1) on large topologies. */
  static of(topology: Topology): ServiceIndex {
    let ix = indexes.get(topology);
    if (!ix) {
      ix = new ServiceIndex(topology);
      indexes.set(topology, ix);
    }
    return ix;
  }

  private constructor(readonly topology: Topology) {
    for (const s of topology.services) {
      this.ids.set(s.id, s);
      if (!this.names.has(s.name)) this.names.set(s.name, s);
      // Compose-only services live in the compose file's folder without owning it.
      if (s.composeOnly) continue;
      for (const i of s.indicators) if (!this.indicators.has(i)) this.indicators.set(i, s);
      if (!this.folders.has(s.folder)) this.folders.set(s.folder, s);
      const dockerfile = s.build?.dockerfile;
      if (dockerfile && !this.dockerfiles.has(dockerfile)) this.dockerfiles.set(dockerfile, s);
    }
  }

  byId(id: string): Service | undefined {
    return this.ids.get(id);
  }

  /** By DNS name (case-insensitive, as names are lower case), else by id. */
  byName(name: string): Service | undefined {
    return this.names.get(name) ?? this.names.get(name.toLowerCase()) ?? this.ids.get(name);
  }

  /** What a user typed or a client sent: an id first, then a name. */
  find(ref: string): Service | undefined {
    return this.ids.get(ref) ?? this.names.get(ref);
  }

  /** Like find, with an error that lists the services there are. */
  require(ref: string): Service {
    const s = this.find(ref);
    if (!s) throw new UnknownServiceError(ref, this.topology);
    return s;
  }

  /** The service a root-relative file belongs to: one of its indicators, a file in its folder, or its Dockerfile. */
  forFile(rel: string): Service | undefined {
    return this.indicators.get(rel) ?? this.folders.get(posix.dirname(rel)) ?? this.dockerfiles.get(rel);
  }

  /** The service whose own folder this is (not an image-only compose service declared there). */
  atFolder(folder: string): Service | undefined {
    return this.folders.get(folder);
  }

  /** A compose service of `composeRel`: built from `build` (relative to the compose file), or image-only. */
  forCompose(composeRel: string, name: string, build?: string): Service | undefined {
    const byId = this.ids.get(`${composeRel}#${name}`);
    if (byId) return byId;
    if (build !== undefined) {
      const ctx = posix.normalize(posix.join(posix.dirname(composeRel), build)).replace(/\/$/, '') || '.';
      const byFolder = this.ids.get(ctx) ?? this.folders.get(ctx);
      if (byFolder) return byFolder;
    }
    return this.byName(name);
  }
}
