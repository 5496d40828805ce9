import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ConvertedCheckpoint } from '@pumer/vilt/node';
import { CliError } from '../errors.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { isMeterDir, meter, modelFileOptions, vilt } from '../loaders.js';

export interface ConvertCommandOptions {
  model: string;
  out: string;
  labels?: string;
  tokenizer?: string;
  force?: boolean;
  json?: boolean;
}

export interface ConvertReport extends ConvertedCheckpoint {
  /** 'meter' for a METER checkpoint; absent: ViLT. */
  family?: 'meter';
  model: string;
}

/** The checks a user can fix before anything is read: the input exists, the output is free. */
function checkPaths(model: string, out: string, force: boolean): void {
  if (!existsSync(model)) throw new CliError(`model directory not found: ${model}`);
  if (!statSync(model).isDirectory()) throw new CliError(`model is not a directory: ${model}`);
  if (path.resolve(model) === path.resolve(out))
    throw new CliError(`--out is the model directory itself: ${out}`);
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new CliError(`--out exists and is not a directory: ${out}`);
  if (!force && readdirSync(out).length > 0)
    throw new CliError(`--out is not empty: ${out} (--force writes into it)`);
}

/**
 * A METER checkpoint through @pumer/meter's convertMeter (config.json, text_config.json, model.safetensors and
 * its tokenizer.json); what it reports is read back from the written config.
 */
async function convertMeterModel(
  opts: ConvertCommandOptions,
  io: CliIO,
  model: string,
  out: string,
): Promise<ConvertReport> {
  const m = await meter();
  const from = existsSync(path.join(model, m.METER_CHECKPOINT_FILE_NAMES.weights)) ? 'hf' : 'authors';
  let converted: ReturnType<typeof m.convertMeter>;
  try {
    converted = m.convertMeter(model, out, { ...modelFileOptions(io.cwd, opts), force: opts.force === true });
  } catch (err) {
    throw new CliError(`cannot convert ${model}: ${(err as Error).message}`, { cause: err });
  }
  const read = (name: string) => JSON.parse(readFileSync(path.join(converted.out, name), 'utf8'));
  const names = m.METER_CHECKPOINT_FILE_NAMES;
  const rawConfig = read(names.config);
  const config = m.parseMeterConfig(rawConfig, read(names.textConfig));
  return {
    family: 'meter',
    model,
    out: converted.out,
    files: converted.files,
    from,
    architecture: converted.architecture,
    labels: config.geometry.numLabels,
    schedule: m.meterScheduleFromConfig(rawConfig, config.geometry.numSteps) !== null,
  };
}

export async function convertModel(opts: ConvertCommandOptions, io: CliIO): Promise<ConvertReport> {
  const model = path.resolve(io.cwd, opts.model);
  const out = path.resolve(io.cwd, opts.out);
  checkPaths(model, out, opts.force === true);
  if (await isMeterDir(model)) return convertMeterModel(opts, io, model, out);
  const { convertCheckpoint } = await vilt();
  const converted = convertCheckpoint(model, out, {
    ...modelFileOptions(io.cwd, opts),
    force: opts.force === true,
  });
  return { model, ...converted };
}

export async function convertCommand(opts: ConvertCommandOptions, io: CliIO): Promise<void> {
  const r = await convertModel(opts, io);
  if (opts.json) {
    writeJson(io, r);
    return;
  }
  const c = colorsFor(io, false);
  const layout = r.from === 'hf' ? 'Hugging Face' : "the PuMer authors'";
  const family = r.family === 'meter' ? 'METER, ' : '';
  io.out(`${c.dim('from')} ${r.model} (${family}${layout} layout, ${r.architecture}, ${r.labels} labels)\n`);
  io.out(`${c.dim('to  ')} ${r.out} (Hugging Face layout${r.schedule ? ', with its PuMer schedule' : ''})\n`);
  for (const f of r.files) io.out(`  ${f.name}  ${f.bytes} bytes\n`);
}
