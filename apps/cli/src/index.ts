/**
 * @pumer/cli: the `pumer` command line. The commands are also exported as functions, so other tools (and
 * tests) can run them in-process with their own output sink.
 */
export { createProgram, main } from './program.js';
export { type CliIO, processIO } from './io.js';
export { CheckFailed, CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './errors.js';
export {
  answerQuestion,
  DEFAULT_QUESTION,
  type Nlvr2RunReport,
  type RetrievalRunReport,
  type RunCommandOptions,
  type RunReport,
  runModel,
  type VeRunReport,
  type VqaRunReport,
} from './commands/run.js';
export {
  type RetrieveCommandOptions,
  type RetrieveReport,
  retrieve,
} from './commands/retrieve.js';
export type { Recall, RecallAtK } from './eval/recall.js';
export { type EvalCommandOptions, type EvalReport, evaluateModel } from './commands/eval.js';
export { type BenchCommandOptions, runBench } from './commands/bench.js';
export { checkParity, type ParityCommandOptions, type ParityReport } from './commands/parity.js';
export {
  type MeterScheduleReport,
  meterScheduleReport,
  type ScheduleCommandOptions,
  type ScheduleReport,
  scheduleReport,
} from './commands/schedule.js';
export { type MeterBenchReport, type MeterBenchRow, runMeterBench } from './commands/bench-meter.js';
export {
  type ConvertCommandOptions,
  type ConvertReport,
  convertModel,
} from './commands/convert.js';
export { type ExportCommandOptions, type ExportReport, exportModel } from './commands/export.js';
export { GEOMETRIES, METER_GEOMETRIES, TINY_GEOMETRY, TINY_METER_GEOMETRY } from './geometries.js';
export { type ScheduleFlags, scheduleFromFlags, scheduleLine } from './schedule-flags.js';
export type { BenchReport, BenchRow } from './bench/types.js';
