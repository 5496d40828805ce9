import { createColors } from 'picocolors';
import { describe, expect, it } from 'vitest';
import { backendLine, backendReport, backendWarning } from './backend-report.js';

const plain = createColors(false);

describe('the backend report', () => {
  it('names the adapter and carries a warning to stderr when the backend gives them', () => {
    const r = backendReport(
      {
        name: 'webgpu',
        provider: 'webgpu',
        adapter: 'google swiftshader, software',
        warning: 'WebGPU runs on a software adapter',
      },
      'requested with --backend webgpu',
    );
    expect(backendLine(r, plain)).toBe(
      'backend  webgpu (webgpu on google swiftshader, software): requested with --backend webgpu\n',
    );
    expect(backendWarning(r)).toBe('pumer: warning: WebGPU runs on a software adapter\n');
  });

  it('says nothing more when there is nothing more to say', () => {
    const r = backendReport(
      { name: 'node', provider: 'cpu' },
      'auto: the best registered backend of node, cpu',
    );
    expect(r).toEqual({
      name: 'node',
      provider: 'cpu',
      reason: 'auto: the best registered backend of node, cpu',
    });
    expect(backendLine(r, plain)).toBe(
      'backend  node (cpu): auto: the best registered backend of node, cpu\n',
    );
    expect(backendWarning(r)).toBe('');
  });
});
