import { PumerError } from '@pumer/core';
import {
  AUTHORS_VQA_LABEL_FILE,
  parseLabelList,
  SHARD_INDEX_FILE_NAMES,
  shardFileNames,
  type ViltFiles,
} from '@pumer/vilt';

/**
 * A checkpoint folder from the user's disk (a directory picker or a dropped folder) as viltFromFiles takes
 * it: config.json, the weights (model.safetensors, pytorch_model.bin or a sharded index with its shards),
 * tokenizer.json, preprocessor_config.json and an answer list (labels.json, or the authors'
 * vqa2_label2ans.json anywhere in the folder) when present. Which layout it is, and what it lacks, is for
 * viltFromFiles to say.
 */

/** One file of the folder and its path inside it (`folder/config.json`, `folder/datasets/vqa2/...`). */
export interface FolderFile {
  readonly path: string;
  readonly file: Blob & { readonly lastModified?: number };
}

/** Files whose answer list replaces config.json's id2label, in order of preference. */
export const LABEL_FILE_NAMES = ['labels.json', AUTHORS_VQA_LABEL_FILE.split('/').pop()!];

const WEIGHT_FILE_NAMES = ['model.safetensors', 'pytorch_model.bin'];

const depth = (f: FolderFile) => f.path.split('/').length;
const baseName = (path: string) => path.split('/').pop()!;

/** The file called `name` nearest the folder's top (a checkpoint's own files sit above its data folders). */
export function find(files: readonly FolderFile[], name: string): FolderFile | undefined {
  return files.filter((f) => baseName(f.path) === name).sort((a, b) => depth(a) - depth(b))[0];
}

export async function bytes(f: FolderFile): Promise<Uint8Array> {
  return new Uint8Array(await f.file.arrayBuffer());
}

export async function json(f: FolderFile): Promise<unknown> {
  const text = await f.file.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('CHECKPOINT', `${f.path}: not valid JSON (${msg})`, { cause: err });
  }
}

async function weightsOf(files: readonly FolderFile[]): Promise<Pick<ViltFiles, 'weights' | 'weightsName'>> {
  for (const name of WEIGHT_FILE_NAMES) {
    const f = find(files, name);
    if (f) return { weights: await bytes(f), weightsName: f.path };
  }
  for (const indexName of SHARD_INDEX_FILE_NAMES) {
    const f = find(files, indexName);
    if (!f) continue;
    const index = await json(f);
    const shards = new Map<string, Uint8Array>();
    for (const shard of shardFileNames(index, f.path)) {
      const s = find(files, shard);
      if (!s)
        throw new PumerError('CHECKPOINT', `${f.path} lists the shard ${shard}, which is not in the folder`);
      shards.set(shard, await bytes(s));
    }
    return { weights: { index, shards, indexName }, weightsName: f.path };
  }
  throw new PumerError(
    'CHECKPOINT',
    `the folder has no weights: expected ${[...WEIGHT_FILE_NAMES, ...SHARD_INDEX_FILE_NAMES].join(', ')}`,
  );
}

/** The folder's name: the first part of its files' paths. */
export function folderName(files: readonly FolderFile[]): string {
  return files[0]?.path.split('/')[0] ?? 'folder';
}

/** Reads a checkpoint folder's files for viltFromFiles. Throws a CHECKPOINT PumerError when one is missing. */
export async function readCheckpointFolder(files: readonly FolderFile[]): Promise<ViltFiles> {
  const config = find(files, 'config.json');
  if (!config)
    throw new PumerError(
      'CHECKPOINT',
      `"${folderName(files)}" is not a checkpoint folder: it has no config.json (${files.length} files)`,
    );
  const { weights, weightsName } = await weightsOf(files);
  const tokenizer = find(files, 'tokenizer.json');
  const preprocessor = find(files, 'preprocessor_config.json');
  const labelFile = LABEL_FILE_NAMES.map((n) => find(files, n)).find((f) => f !== undefined);
  const weightFile = find(files, baseName(weightsName!))!;
  return {
    config: await json(config),
    weights,
    weightsName,
    ...(tokenizer ? { tokenizer: await json(tokenizer) } : {}),
    ...(preprocessor ? { preprocessor: await json(preprocessor) } : {}),
    ...(labelFile
      ? { labels: parseLabelList(await json(labelFile), labelFile.path), labelsName: labelFile.path }
      : {}),
    // Graph caches key on it: the weights' path, size and date tell two folders apart.
    id: `folder:${weightsName}:${weightFile.file.size}:${weightFile.file.lastModified ?? 0}`,
  };
}

/** The files an `<input type="file" webkitdirectory>` picked, with their paths inside the folder. */
export function filesFromInput(list: FileList | null): FolderFile[] {
  return Array.from(list ?? [], (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

async function entryFiles(entry: FileSystemEntry, prefix: string): Promise<FolderFile[]> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
    return [{ path, file }];
  }
  if (!entry.isDirectory) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries hands out a directory's entries in batches, until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map((c) => entryFiles(c, path)))).flat();
}

/** The files of a folder (or files) dropped on the page, with their paths inside it. */
export async function filesFromDrop(data: DataTransfer | null): Promise<FolderFile[]> {
  const entries = Array.from(data?.items ?? [])
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  return (await Promise.all(entries.map((e) => entryFiles(e, '')))).flat();
}
