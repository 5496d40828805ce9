import { describe, expect, it } from 'vitest';
import { opsOffloadedFrom, parsePlacement } from './placement.js';

// Lines as onnxruntime-web 1.30 prints them with logSeverityLevel 0 (trimmed timestamps kept realistic).
const SPLIT = [
  '2026-11-24 00:59:16.878699 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
  '2026-11-24 00:59:16.879038 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2',
  '2026-11-24 00:59:16.879524 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Unsqueeze ()',
  '2026-11-24 00:59:16.879525 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Expand (expand_3)',
  '2026-11-24 00:59:16.880537 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 3',
  '2026-11-24 00:59:16.880657 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MatMul ()',
  '2026-11-24 00:59:16.880844 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   TopK (top)',
  '2026-11-24 00:59:16.881226 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MemcpyToHost (Memcpy)',
  '2026-11-24 00:59:16.889600 [W:onnxruntime:, session_state.cc:1397 VerifyEachNodeIsAssignedToAnEp] Some nodes were not assigned to the preferred execution providers',
  '2026-11-24 00:59:16.912415 [V:onnxruntime:, session_state.cc:186 CreateGraphInfo] SaveMLValueNameIndexMapping',
];

describe('parsePlacement', () => {
  it('reads per-provider node lists and counts', () => {
    const p = parsePlacement(SPLIT);
    expect(p.byProvider).toEqual({
      CPUExecutionProvider: ['Unsqueeze', 'Expand'],
      WebGpuExecutionProvider: ['MatMul', 'TopK', 'MemcpyToHost'],
    });
    expect(p.nodeCounts).toEqual({ CPUExecutionProvider: 2, WebGpuExecutionProvider: 3 });
    expect(opsOffloadedFrom(p, 'WebGpuExecutionProvider')).toEqual(['Expand', 'Unsqueeze']);
  });

  it('reads the single-provider form, where ORT prints only the count', () => {
    const p = parsePlacement([
      '2026-11-24 01:24:32.620922 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 448',
    ]);
    expect(p.nodeCounts).toEqual({ WebGpuExecutionProvider: 448 });
    expect(opsOffloadedFrom(p, 'WebGpuExecutionProvider')).toEqual([]);
  });

  it('accepts several lines in one chunk and ignores unrelated text', () => {
    const p = parsePlacement([SPLIT.slice(0, 4).join('\n'), 'hello', SPLIT[9]!]);
    expect(p.byProvider).toEqual({ CPUExecutionProvider: ['Unsqueeze', 'Expand'] });
    expect(parsePlacement(['nothing here']).nodeCounts).toEqual({});
  });
});
