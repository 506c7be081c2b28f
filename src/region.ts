/**
 * A region this process serves: its own metadata database and blob files under
 * <dataDir>/<region>/. Nothing above storage/ assumes which regions a process holds.
 */
import path from 'node:path';
import { SqliteMetadataStore } from './storage/metadata/sqlite-store.js';
import { FileBlobStore } from './storage/blobs/file-blob-store.js';
import type { BlobStore, MetadataStore } from './storage/types.js';

export interface Region {
  readonly name: string;
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
}

export function openRegion(dataDir: string, name: string): Region {
  const dir = path.join(dataDir, name);
  return {
    name,
    meta: new SqliteMetadataStore(name, path.join(dir, 'metadata.db')),
    blobs: new FileBlobStore(path.join(dir, 'blobs')),
  };
}

export async function closeRegion(r: Region): Promise<void> {
  await r.meta.close();
  await r.blobs.close();
}
