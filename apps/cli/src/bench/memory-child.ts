/**
 * The process `pumer bench --memory` starts for each configuration (bench/memory.ts): reads a MemoryProbeSpec
 * as JSON from argv, measures it (bench/memory-probe.ts) and prints the result as one JSON line.
 */
import { type MemoryProbeSpec, probeMemory } from './memory-probe.js';

const spec = JSON.parse(process.argv[2] ?? '') as MemoryProbeSpec;
try {
  const result = await probeMemory(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
// onnxruntime / Dawn can keep handles open after dispose.
setTimeout(() => process.exit(), 1000).unref();
