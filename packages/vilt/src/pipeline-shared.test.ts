import { describe, expect, it } from 'vitest';
import { nlvr2TrueIndex, prepareNlvr2Items } from './nlvr2-pipeline.js';
import { classifyRow } from './pipeline-shared.js';
import { prepareVeItems } from './ve-pipeline.js';

describe('classification helpers (shared by the ViLT and METER VE / NLVR2 pipelines)', () => {
  it('classifyRow reads example b of a batch, its best class (ties: the lower) and every class', () => {
    const labels = ['no', 'yes'];
    const logits = Float32Array.of(0, 0, 1, 3);
    const { classification, best } = classifyRow(logits, 1, labels);
    expect(best).toBe(1);
    expect(classification.label).toBe('yes');
    expect(Array.from(classification.logits)).toEqual([1, 3]);
    expect(classification.classes.map((c) => c.label)).toEqual(labels);
    expect(classification.probability).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(classifyRow(logits, 0, labels).best).toBe(0);
    expect(() => classifyRow(Float32Array.of(Number.NaN, 0), 0, labels)).toThrow(/NaN logit/);
  });

  it('nlvr2TrueIndex is the label spelled true, else output 1', () => {
    expect(nlvr2TrueIndex(['TRUE', 'False'])).toBe(0);
    expect(nlvr2TrueIndex(['0', '1'])).toBe(1);
  });

  it('the item preparers check every item first, then prepare, naming the item only in a batch', () => {
    const prepared: string[] = [];
    const prepare = (image: unknown, source: string) => {
      prepared.push(`${String(image)}:${source}`);
      return String(image);
    };
    const encode = (text: string) => text.toUpperCase();
    expect(() => prepareNlvr2Items(3 as never, prepare, encode)).toThrow(/predictBatch takes an array/);
    const pair = (statement: unknown) => ({ images: ['l', 'r'], statement }) as never;
    expect(() => prepareNlvr2Items([pair('s'), { images: ['a'] } as never], prepare, encode)).toThrow(
      /item 1 must be an object \{images: \[left, right\], statement\}/,
    );
    expect(() => prepareNlvr2Items([pair('')], prepare, encode)).toThrow(/^the statement is empty/);
    expect(prepared).toEqual([]);
    expect(prepareNlvr2Items([pair('s'), pair('t')], prepare, encode)).toEqual([
      { images: ['l', 'r'], text: 'S' },
      { images: ['l', 'r'], text: 'T' },
    ]);
    expect(prepared).toEqual([
      'l:image 0 of item 0',
      'r:image 1 of item 0',
      'l:image 0 of item 1',
      'r:image 1 of item 1',
    ]);

    const sources: string[] = [];
    const prepareVe = (image: unknown, i: number, one: boolean) => {
      sources.push(`${i}${one}`);
      return String(image);
    };
    expect(() => prepareVeItems([null as never], prepareVe, encode)).toThrow(
      /item 0 must be an object \{image, hypothesis\}/,
    );
    expect(() =>
      prepareVeItems(
        [{ image: 'a', hypothesis: 'h' }, { image: 'b', hypothesis: 3 } as never],
        prepareVe,
        encode,
      ),
    ).toThrow(/the hypothesis of item 1 must be a string/);
    expect(sources).toEqual([]);
    expect(prepareVeItems([{ image: 'a', hypothesis: 'h' }] as never, prepareVe, encode)).toEqual([
      { images: ['a'], text: 'H' },
    ]);
    expect(sources).toEqual(['0true']);
  });
});
