import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { defaultModelDir, viltFromFiles } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { type FolderFile, folderName, readCheckpointFolder } from './checkpoint-folder.js';

/** The embedded checkpoint as a picked folder `tiny/…`, plus `extra` files. */
function embeddedFolder(extra: Record<string, string> = {}, drop: string[] = []): FolderFile[] {
  const dir = defaultModelDir();
  const files: FolderFile[] = readdirSync(dir)
    .filter((name) => !drop.includes(name))
    .map((name) => ({ path: `tiny/${name}`, file: new Blob([readFileSync(join(dir, name))]) }));
  for (const [path, text] of Object.entries(extra))
    files.push({ path: `tiny/${path}`, file: new Blob([text]) });
  return files;
}

async function codeOf(files: FolderFile[]): Promise<[string, string]> {
  try {
    viltFromFiles(await readCheckpointFolder(files));
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    return [(err as PumerError).code, (err as Error).message];
  }
  return ['none', ''];
}

describe('readCheckpointFolder', () => {
  it("reads a picked folder into the files viltFromFiles loads, the checkpoint's own config first", async () => {
    const files = embeddedFolder({ 'sub/config.json': '{}' });
    expect(folderName(files)).toBe('tiny');
    const read = await readCheckpointFolder(files);
    expect(read.weightsName).toBe('tiny/model.safetensors');
    expect(read.id).toMatch(/^folder:tiny\/model\.safetensors:\d+:/);
    const loaded = viltFromFiles(read);
    expect(loaded.model.labels[0]).toBe('yes');
    expect(loaded.config.geometry.numLayers).toBe(6);
  });

  it("an answer list (labels.json, or the authors' vqa2_label2ans.json) replaces id2label", async () => {
    const labels = JSON.stringify(Array.from({ length: 14 }, (_, i) => `answer ${i}`));
    for (const path of ['labels.json', 'datasets/vqa2/vqa2_label2ans.json']) {
      const loaded = viltFromFiles(await readCheckpointFolder(embeddedFolder({ [path]: labels })));
      expect(loaded.model.labels[13]).toBe('answer 13');
    }
  });

  it('what a folder lacks or holds wrongly is a CHECKPOINT or TOKENIZER error naming it', async () => {
    expect(await codeOf(embeddedFolder({}, ['config.json']))).toEqual([
      'CHECKPOINT',
      expect.stringMatching(/"tiny" is not a checkpoint folder: it has no config\.json/),
    ]);
    expect(await codeOf(embeddedFolder({}, ['model.safetensors']))).toEqual([
      'CHECKPOINT',
      expect.stringMatching(/no weights/),
    ]);
    expect(await codeOf(embeddedFolder({}, ['tokenizer.json']))).toEqual(['TOKENIZER', expect.any(String)]);
    expect(await codeOf(embeddedFolder({ 'labels.json': '["yes"' }))).toEqual([
      'CHECKPOINT',
      expect.stringMatching(/^tiny\/labels\.json: not valid JSON/),
    ]);
    expect(await codeOf(embeddedFolder({ 'labels.json': '["yes"]' }))).toEqual([
      'CHECKPOINT',
      expect.stringMatching(/1 labels, but the checkpoint's VQA head has 14 outputs/),
    ]);
  });
});
