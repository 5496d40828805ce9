import { describe, expect, it } from 'vitest';
import { reducerKernelTime } from './loaders.js';

describe('reducerKernelTime', () => {
  it('sums kernel events, and those of layer<i>/reduce/ nodes per op type', () => {
    const events = [
      { cat: 'Node', name: 'layer1/MatMul_3_node_kernel_time', dur: 100, args: { op_name: 'MatMul' } },
      { cat: 'Node', name: 'layer1/reduce/TopK_node_kernel_time', dur: 30, args: { op_name: 'TopK' } },
      { cat: 'Node', name: 'layer3/reduce/MatMul_9_node_kernel_time', dur: 20, args: { op_name: 'MatMul' } },
      {
        cat: 'Node',
        name: 'layer3/reduce/MatMul_9_node_fence_before',
        dur: 999,
        args: { op_name: 'MatMul' },
      },
      { cat: 'Session', name: 'model_run', dur: 5000 },
    ];
    const r = reducerKernelTime(events);
    expect(r.total).toBe(150);
    expect(r.reducer).toBe(50);
    expect(Object.fromEntries(r.byOpType)).toEqual({ TopK: 30, MatMul: 20 });
  });
});
