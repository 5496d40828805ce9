import { describe, expect, it } from 'vitest';
import { runInputs } from './tasks.js';

const ask = (
  task: Parameters<typeof runInputs>[0],
  given: { text?: string; question?: string; images: number },
) => runInputs(task, 'Arch', { ...given, defaultQuestion: 'q?' });

describe('runInputs: the flags each task takes', () => {
  it("--text is every task's text; --question is VQA's; VQA alone has a default image and question", () => {
    expect(ask('vqa', { images: 0 })).toBe('q?');
    expect(ask('vqa', { question: 'what?', images: 1 })).toBe('what?');
    expect(ask('ve', { text: 'a dog', images: 1 })).toBe('a dog');
    expect(ask('nlvr2', { text: 'both red', images: 2 })).toBe('both red');
    expect(ask('retrieval', { text: 'a cat', images: 1 })).toBe('a cat');
  });

  it('refuses what does not fit the task, in one line', () => {
    expect(() => ask('nlvr2', { text: 's', images: 1 })).toThrow(/takes two images: give --image twice/);
    expect(() => ask('ve', { text: 's', images: 2 })).toThrow(/takes one image/);
    expect(() => ask('retrieval', { text: 's', images: 0 })).toThrow(/takes one image/);
    expect(() => ask('ve', { images: 1 })).toThrow(/its hypothesis with --text/);
    expect(() => ask('nlvr2', { question: 's', images: 2 })).toThrow(/--question is for VQA/);
    expect(() => ask('vqa', { question: 'a', text: 'b', images: 1 })).toThrow(/not both/);
  });
});
