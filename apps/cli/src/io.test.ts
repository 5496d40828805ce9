import { describe, expect, it } from 'vitest';
import { runCli } from './testing.js';

const ESC = '\u001b[';

describe('colours', () => {
  it('are off when output is not a terminal', async () => {
    const r = await runCli(['schedule']);
    expect(r.stdout).not.toContain(ESC);
  });

  it('FORCE_COLOR turns them on, NO_COLOR wins over it', async () => {
    expect((await runCli(['schedule'], { env: { FORCE_COLOR: '1' } })).stdout).toContain(ESC);
    expect((await runCli(['schedule'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toContain(
      ESC,
    );
  });

  it('--json output is never coloured', async () => {
    const r = await runCli(['schedule', '--json'], { env: { FORCE_COLOR: '1' } });
    expect(r.stdout).not.toContain(ESC);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});
