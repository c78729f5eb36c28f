// One folder of the file index as a detector or compose import sees it: its files (ignored ones hidden), reads
// relative to it, and its subfolders.
import type { FileIndex, FolderListing, ReadResult } from './file-index';

export class FolderView {
  constructor(
    readonly index: FileIndex,
    readonly listing: FolderListing,
  ) {}

  get dir(): string {
    return this.listing.dir;
  }

  get files(): readonly string[] {
    return this.listing.files;
  }

  get subdirs(): readonly string[] {
    return this.listing.subdirs;
  }

  has(name: string): boolean {
    return this.listing.files.includes(name) && !this.index.isIgnored(this.listing, name);
  }

  /** Root-relative path of a file in this folder (or below it, with a relative path). */
  rel(name: string): string {
    return this.dir === '.' ? name : `${this.dir}/${name}`;
  }

  readResult(name: string): ReadResult {
    return this.index.read(this.rel(name));
  }

  read(name: string): string | undefined {
    return this.index.read(this.rel(name)).text;
  }

  /** True when a file at a path relative to this folder ('src/index.ts') is indexed and not ignored. */
  exists(relPath: string): boolean {
    const slash = relPath.lastIndexOf('/');
    if (slash < 0) return this.has(relPath);
    return this.sub(relPath.slice(0, slash))?.has(relPath.slice(slash + 1)) ?? false;
  }

  /** Listing of a subfolder, relative to this folder ('src', 'cmd/api'). */
  sub(relDir: string): FolderView | undefined {
    const listing = this.index.folder(this.rel(relDir));
    return listing ? new FolderView(this.index, listing) : undefined;
  }
}
