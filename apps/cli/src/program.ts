import { AUTO_BACKEND, describeSchedule, listSchedules, scheduleNames } from '@pumer/core';
import { Command, CommanderError, Option } from 'commander';
import {
  backendChoices,
  backendNames,
  parseIntList,
  parseList,
  parseNonNegativeInt,
  parsePositiveInt,
  parsePoints,
  parsePositiveIntList,
  parseRatio,
  parseSaliency,
  parseScheduleName,
  parseStyle,
} from './args.js';
import { benchCommand } from './commands/bench.js';
import { convertCommand } from './commands/convert.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { parityCommand } from './commands/parity.js';
import { retrieveCommand } from './commands/retrieve.js';
import { runCommand } from './commands/run.js';
import { scheduleCommand } from './commands/schedule.js';
import { tuneCommand } from './commands/tune.js';
import { CliError, EXIT_OK, EXIT_USAGE, exitCodeFor, oneLine } from './errors.js';
import { type CliIO, processIO } from './io.js';
import { DEFAULT_GEOMETRY, geometryNames } from './geometries.js';
import { TASKS } from './tasks.js';
import { VERSION } from './version.js';

/** `--backend` of run and eval: auto (the default) or a registered name. */
function backendOption(): Option {
  return new Option(
    '--backend <name>',
    `backend: auto (onnxruntime-node in Node, CUDA when installed; cpu if nothing else initialises), ${backendNames().join(', ')}`,
  )
    .choices(backendChoices())
    .default(AUTO_BACKEND);
}

/** A repeatable flag: every value, in order. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The decoders' default pixel limit (@pumer/vilt DEFAULT_MAX_PIXELS; a test keeps the two equal). */
export const DEFAULT_MAX_PIXELS_HELP = 50_000_000;

/** `--max-pixels` of run and eval: images above it are refused from their header, before decoding. */
function maxPixelsOption(): Option {
  return new Option(
    '--max-pixels <n>',
    `largest image decoded, in pixels (width x height); larger ones are refused before any decoding (default: ${DEFAULT_MAX_PIXELS_HELP})`,
  ).argParser(parsePositiveInt);
}

/** Help of `--labels` and `--tokenizer` (run, eval, convert): what a checkpoint folder may lack (the authors' have neither). */
const MODEL_FLAG_HELP = {
  labels:
    "JSON list of the answers, index -> answer (replaces config.json's id2label; the authors' vqa2_label2ans.json)",
  tokenizer:
    "tokenizer.json, or a folder holding one (default: the checkpoint's own; the authors' checkpoints have none)",
};

/** The --layers/--prune/--merge/--text-merge/--saliency/--style/--training-free flags shared by run, retrieve, eval and schedule. */
function addScheduleFlags(cmd: Command): Command {
  return cmd
    .option('--layers <list>', 'reduce layers, comma-separated (overrides the schedule)', parseIntList)
    .option('--prune <ratio>', 'image-token prune ratio in [0, 1)', parseRatio)
    .option('--merge <ratio>', 'image-token merge ratio in [0, 1)', parseRatio)
    .option('--text-merge <ratio>', 'text-token merge ratio in [0, 1)', parseRatio)
    .option(
      '--saliency <method>',
      'text saliency: first_head (fh), mean_head (mh), k_metric (km), qk',
      parseSaliency,
    )
    .option('--style <style>', 'image merge style: tip, tome, diff', parseStyle)
    .option(
      '--training-free',
      'training-free mode: the same token counts, reduced for checkpoints fine-tuned without the reducers (size-weighted merges, proportional attention, pruned tokens recycled, head-averaged saliency)',
    )
    .option(
      '--no-training-free',
      "the reference's reduction even if the checkpoint's schedule says training-free",
    );
}

/** Every schedule core knows, with what it does at its own depth (they scale to the model's depth). */
function scheduleHelp(): string {
  const named = listSchedules().map((s) => {
    const aliases = s.aliases?.length ? `|${s.aliases.join('|')}` : '';
    const of = s.family === 'meter' ? ` of ${s.depth} METER steps` : ` of ${s.depth}`;
    return `${s.name}${aliases} (${describeSchedule(s.config)}${s.config ? of : ''})`;
  });
  return `${named.join(', ')}, model (the checkpoint's own; none if it has none); named schedules scale to the model's depth`;
}

/**
 * Builds the `pumer` program. Every command writes through `io`; errors are thrown, never printed here,
 * so `main` can turn each into one line and an exit code.
 */
export function createProgram(io: CliIO): Command {
  const program = new Command('pumer')
    .description(
      'PuMer.js: text-informed pruning and modality-aware merging of tokens in ViLT and METER (Cao et al., ACL 2023).',
    )
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // main() prints commander's errors itself, as one line.
      outputError: () => undefined,
    });

  addScheduleFlags(
    program
      .command('run', { isDefault: true })
      .description(
        'run the checkpoint\'s task on one example: VQA answers a question, VE classifies a hypothesis, NLVR2 judges a statement about two images, retrieval scores a caption-image pair (defaults: the embedded VQA model, a bundled image, "how many circles are there?")',
      )
      .option(
        '--image <file>',
        'PNG or JPEG image; give it twice for NLVR2 (left, then right) (VQA default: a bundled ShapesVQA image)',
        collect,
      )
      .option(
        '--text <text>',
        'the text input: the question (VQA), hypothesis (VE), statement (NLVR2) or caption (retrieval)',
      )
      .option('--question <text>', 'VQA: the question, as --text (default: "how many circles are there?")')
      .option(
        '--model <dir>',
        "ViLT or METER checkpoint directory, Hugging Face or the PuMer authors' layout (default: the embedded tiny ViLT)",
      )
      .addOption(backendOption())
      .option(
        '--schedule <name>',
        `reduction schedule: ${scheduleHelp()} (default: model)`,
        parseScheduleName,
      ),
  )
    .option('--top-k <k>', 'answers to show', parsePositiveInt, 5)
    .option('--labels <file>', MODEL_FLAG_HELP.labels)
    .option('--tokenizer <file|dir>', MODEL_FLAG_HELP.tokenizer)
    .addOption(maxPixelsOption())
    .option(
      '--graph-cache <dir|off>',
      'node backend: where compiled graphs are cached across runs, or off (default: $PUMER_GRAPH_CACHE, else ~/.cache/pumer/graphs)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts) => runCommand(opts, io));

  addScheduleFlags(
    program
      .command('retrieve')
      .description(
        'image-text retrieval: score every text against every image with a retrieval checkpoint and rank them both ways',
      )
      .requiredOption('--model <dir>', 'an image-text retrieval checkpoint (ViltForImageAndTextRetrieval)')
      .requiredOption('--texts <file>', 'the texts (captions), one per line')
      .requiredOption(
        '--images <dir|files...>',
        'a folder of PNG/JPEG images (sorted by name), or image files in the order to list them',
      )
      .option('--top <k>', 'best matches listed per text and per image', parsePositiveInt, 5)
      .option(
        '--schedule <name>',
        `reduction schedule: ${scheduleHelp()} (default: model)`,
        parseScheduleName,
      ),
  )
    .addOption(backendOption())
    .option('--batch-size <n>', 'pairs per forward pass', parsePositiveInt, 32)
    .option('--tokenizer <file|dir>', MODEL_FLAG_HELP.tokenizer)
    .addOption(maxPixelsOption())
    .option('--json', 'print the scores and rankings as JSON (no progress bar)')
    .action(async (opts) => retrieveCommand(opts, io));

  addScheduleFlags(
    program
      .command('eval')
      .description(
        'accuracy with and without the reduction, their agreement, and throughput on a JSONL eval set',
      ),
  )
    .requiredOption(
      '--model <dir>',
      "ViLT or METER checkpoint directory, Hugging Face or the PuMer authors' layout",
    )
    .requiredOption(
      '--data <file>',
      'eval set, JSONL, image paths relative to the file: vqa {image, question, answer}; ve {image, text, label}; nlvr2 {images: [left, right], text, label: true|false}; retrieval {image, text} (caption i describes image i)',
    )
    .addOption(new Option('--task <task>', "the task of the data (default: the checkpoint's)").choices(TASKS))
    .option('--labels <file>', MODEL_FLAG_HELP.labels)
    .option('--tokenizer <file|dir>', MODEL_FLAG_HELP.tokenizer)
    .option('--schedule <name>', `reduction schedule: ${scheduleHelp()}`, parseScheduleName, 'model')
    .addOption(backendOption())
    .option('--limit <n>', 'evaluate only the first n rows', parsePositiveInt)
    .option('--batch-size <n>', 'examples (retrieval: pairs) per forward pass', parsePositiveInt, 16)
    .addOption(maxPixelsOption())
    .option('--json', 'print the result as JSON (no progress bar)')
    .action(async (opts) => evalCommand(opts, io));

  program
    .command('tune')
    .description(
      'search schedules for the highest measured throughput within an accuracy budget on a calibration set, and write the chosen one into a copy of the checkpoint (docs/tuning.md)',
    )
    .requiredOption('--model <dir>', 'a ViLT VQA checkpoint directory')
    .requiredOption(
      '--data <file>',
      'calibration set, VQA JSONL {image, question, answer} (as pumer eval reads)',
    )
    .requiredOption('--out <dir>', 'where the tuned copy of the checkpoint, tune.json and frontier.svg go')
    .option('--max-drop <points>', 'largest accuracy drop allowed, in percentage points', parsePoints, 1)
    .option(
      '--margin <sigmas>',
      'standard errors of the paired accuracy difference added to a drop before it is held against the budget (0: as measured)',
      parsePoints,
      0.5,
    )
    .addOption(backendOption())
    .option('--labels <file>', MODEL_FLAG_HELP.labels)
    .option('--tokenizer <file|dir>', MODEL_FLAG_HELP.tokenizer)
    .option('--limit <n>', 'use only the first n calibration rows', parsePositiveInt)
    .option(
      '--batch-size <n>',
      'examples per forward pass (the timed batch is the first one)',
      parsePositiveInt,
      50,
    )
    .option(
      '--tie <fraction>',
      'measured speed-ups within this fraction of the fastest count as equal; the most accurate of them is chosen',
      parseRatio,
      0.05,
    )
    .option(
      '--methods <n>',
      'methods (saliency × style × training-free) kept after the screening',
      parsePositiveInt,
      4,
    )
    .option('--repeats <n>', 'timing rounds per timed schedule', parsePositiveInt, 20)
    .option('--quick', 'a small search space: single reduce layers, fewer ratios')
    .option('--json', 'print the report as JSON (no progress bar)')
    .action(async (opts) => tuneCommand(opts, io));

  program
    .command('bench')
    .description('throughput of reduced vs unreduced ViLT on synthetic weights, interleaved in one process')
    .addOption(
      new Option(
        '--task <task>',
        'the head timed: vqa, ve (one pass each), nlvr2 (two image passes per example), retrieval (one pass per text-image pair)',
      )
        .choices(TASKS)
        .default('vqa'),
    )
    .option(
      '--geometry <name>',
      'vilt-b32 (12 layers, hidden 768, 384x384), vilt-b32-photo (its weights on 384x512 photos), tiny (the ShapesVQA geometry), or METER: meter-b16-384, meter-b16-288, tiny-meter (default schedules unreduced,meter-vqa,meter-ve; report in docs/bench/<geometry>)',
      DEFAULT_GEOMETRY,
    )
    .option('--batch <list>', 'batch sizes, comma-separated', parsePositiveIntList, [1, 8, 32])
    .option(
      '--backend <list>',
      `backends, comma-separated: ${backendChoices().join(',')}`,
      parseList(backendChoices, 'backend'),
      [AUTO_BACKEND],
    )
    .option(
      '--schedules <list>',
      `schedules, comma-separated, of ${scheduleNames().join(',')} (default: unreduced,paper,aggressive on vilt-b32; unreduced,pumer,aggressive on tiny)`,
      parseList(scheduleNames, 'schedule'),
    )
    .option(
      '--repeats <n>',
      'timed runs per configuration (>= 5 for a report; fewer for smoke tests)',
      parsePositiveInt,
      7,
    )
    .option('--warmup <n>', 'untimed runs per configuration first', parseNonNegativeInt, 2)
    .option(
      '--out <dir>',
      'where bench.json, bench.md and bench.svg go (default: docs/bench, or docs/bench/<task> for ve, nlvr2, retrieval)',
    )
    .option('--seed <n>', 'seed of the random weights and inputs', parseNonNegativeInt, 1)
    .option(
      '--memory',
      'measure memory instead: each configuration in its own process (peak RSS after warm-up, activations per layer); writes memory.json and memory.md (default: <bench dir>/memory)',
    )
    .option(
      '--startup',
      'measure the time to the first answer instead: pumer run in a fresh process per try, with a cold and a warm graph cache (median of --tries; the first of --backend and --schedules); writes startup.json and startup.md (default: <bench dir>/startup)',
    )
    .option('--tries <n>', 'with --startup: tries per graph cache state', parsePositiveInt, 5)
    .option('--json', 'print the result as JSON')
    .action(async (opts) => benchCommand(opts, io));

  program
    .command('parity')
    .description(
      "golden-vector parity of a backend (ViLT's and METER's), cross-backend model parity against cpu, METER model cases",
    )
    .addOption(new Option('--backend <name>', 'backend to check').choices(backendNames()).default('cpu'))
    .option(
      '--golden <dir>',
      "directory of pumer-golden/1 JSON files, ViLT's or METER's meter_cross_layer (default: ../shared/golden)",
    )
    .option(
      '--models <list>',
      'checkpoint directories for model parity, comma-separated (default: the two tiny models)',
    )
    .option(
      '--model <dirs>',
      "METER checkpoint directories with a cases.json, comma-separated: their cases with the schedule on and off against the authors' reference (alone: only these run)",
    )
    .option(
      '--data <file>',
      'eval set whose first rows feed model parity (default: ../shared/models/shapesvqa-eval/eval.jsonl)',
    )
    .option('--examples <n>', 'eval rows per model and schedule', parsePositiveInt, 8)
    .option('--json', 'print the result as JSON')
    .action(async (opts) => parityCommand(opts, io));

  addScheduleFlags(
    program
      .command('schedule')
      .description(
        "tokens, FLOPs and activation memory per layer and the ideal speed-up (core's scheduler; no model run)",
      )
      .option(
        '--schedule <name>',
        `start from a named schedule: ${scheduleHelp()} (default: paper, or none when flags are given)`,
        parseScheduleName,
      )
      .option(
        '--geometry <name>',
        `${geometryNames().join(', ')} (the meter-* ones take METER's schedules, in co-attention steps; default: meter-vqa)`,
        DEFAULT_GEOMETRY,
      ),
  )
    .option('--json', 'print the result as JSON')
    .action(async (opts) => scheduleCommand(opts, io));

  program
    .command('convert')
    .description(
      "rewrite a ViLT or METER checkpoint (Hugging Face or the PuMer authors' layout, .bin or .safetensors) in the Hugging Face layout (model.safetensors)",
    )
    .requiredOption('--model <dir>', 'checkpoint directory to convert')
    .requiredOption('--out <dir>', 'where the converted checkpoint goes (must be empty or absent)')
    .option('--labels <file>', MODEL_FLAG_HELP.labels)
    .option('--tokenizer <file|dir>', MODEL_FLAG_HELP.tokenizer)
    .option('--force', 'write into a non-empty --out, replacing the files it writes')
    .option('--json', 'print the result as JSON')
    .action(async (opts) => convertCommand(opts, io));

  program
    .command('export')
    .description('write the reduced model as one ONNX file')
    .requiredOption('--model <dir>', 'ViLT or METER checkpoint directory')
    .requiredOption('--out <file>', 'output .onnx path')
    .option('--schedule <name>', `reduction schedule: ${scheduleHelp()}`, parseScheduleName, 'model')
    .option('--batch-dynamic', 'leave the batch dimension symbolic (default: fixed to --batch)')
    .option('--batch <n>', 'batch size baked in when not --batch-dynamic', parsePositiveInt, 1)
    .option('--json', 'print the result as JSON')
    .action(async (opts) => exportCommand(opts, io));

  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const program = createProgram(io);
  try {
    // `run` is the default command, so commander would read a mistyped command as an argument of run.
    const first = argv[0];
    if (
      first !== undefined &&
      first !== 'help' &&
      !first.startsWith('-') &&
      !program.commands.some((c) => c.name() === first || c.aliases().includes(first))
    ) {
      const names = program.commands.map((c) => c.name()).join(', ');
      throw new CliError(`unknown command '${first}' (commands: ${names}, help)`);
    }
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      if (err.exitCode === 0) return EXIT_OK;
      io.err(`pumer: error: ${oneLine(err.message)}\n`);
      return EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(`pumer: error: ${oneLine(message)}\n`);
    if (io.env['PUMER_DEBUG'] && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    return exitCodeFor(err);
  }
}
