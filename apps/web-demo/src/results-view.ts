import type { MeterDetails, MeterNlvr2Result, MeterStepCounts, MeterVqaResult } from '@pumer/meter';
import type { Nlvr2Result, VqaDetails, VqaResult } from '@pumer/vilt';
import { backendLabel } from './backend-label.js';
import type { DemoRun, GalleryImage, GalleryRanking } from './engine.js';
import { passFigures, tokenSummary, tokensPerLayer } from './layer-figures.js';
import { meterPasses, meterPassNote, meterTokenSummary, meterTokensPerStep } from './meter-figures.js';

/**
 * The results panel of each task: the answer (VQA's label, NLVR2's true/false, retrieval's ranking), where
 * and how fast it ran, the tokens per layer, and the overlays of every image pass.
 */

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** One image pass: ViLT's details (per layer, with every patch's fate) or METER's step counts. */
type PassDetails = VqaDetails | readonly MeterStepCounts[];

const isMeterPass = (d: PassDetails): d is readonly MeterStepCounts[] => Array.isArray(d);

/** The passes of a result's details: ViLT's one (or NLVR2's `images`), METER's `passes`. */
function passesOf(
  details: VqaDetails | { readonly images: readonly VqaDetails[] } | MeterDetails,
): PassDetails[] {
  if ('passes' in details) return [...meterPasses(details)];
  if ('images' in details) return [...details.images];
  return [details];
}

/** A METER pass: the input image and what its steps did (no patch overlays). */
function meterFigures(image: CanvasImageSource, steps: readonly MeterStepCounts[]): HTMLElement[] {
  const canvas = document.createElement('canvas');
  canvas.width = 256;
  canvas.height = 256;
  canvas.getContext('2d')!.drawImage(image, 0, 0, canvas.width, canvas.height);
  const fig = document.createElement('figure');
  fig.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: 'input image' }));
  return [
    fig,
    Object.assign(document.createElement('p'), { className: 'note', textContent: meterPassNote(steps) }),
  ];
}

/** A score row: label, a bar of `fraction`, and the number shown. */
function scoreRow(label: string, fraction: number, shown: string): HTMLLIElement {
  const li = document.createElement('li');
  li.innerHTML = `<span class="label"></span><span class="bar"><i style="width:${(Math.min(Math.max(fraction, 0), 1) * 100).toFixed(1)}%"></i></span><span class="score"></span>`;
  li.querySelector('.label')!.textContent = label;
  li.querySelector('.score')!.textContent = shown;
  return li;
}

/** Latency, what ran, its warning and adapter, and the token counts of `details`. */
function renderFacts(run: DemoRun<unknown>, details: PassDetails): void {
  const { ms, info } = run;
  const latency = $('latency');
  latency.textContent = ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
  if (run.firstRun && info.provider !== 'typescript')
    latency.append(
      Object.assign(document.createElement('small'), {
        textContent: ' (first run: includes compiling the graph)',
      }),
    );
  $('provider').textContent = backendLabel(info);
  $('provider').dataset['provider'] = info.provider;
  // The backend's own one-line warning, e.g. that a software adapter runs WebGPU on the CPU.
  const warning = $('backend-warning');
  warning.textContent = info.warning ?? '';
  warning.hidden = !info.warning;
  $('adapter').textContent =
    (info as { adapter?: string }).adapter ??
    (info.provider === 'typescript' ? 'none (plain TypeScript)' : 'none (CPU)');
  $('tokens').textContent = isMeterPass(details) ? meterTokenSummary(details) : tokenSummary(details);
  $('layer-tokens').textContent = isMeterPass(details)
    ? meterTokensPerStep(details)
    : tokensPerLayer(details);
}

/** One titled group of figures per image pass. */
function renderPasses(
  passes: readonly { title: string; image: CanvasImageSource; details: PassDetails }[],
): void {
  $('overlays').replaceChildren(
    ...passes.map(({ title, image, details }) => {
      const section = document.createElement('section');
      section.className = 'image-pass';
      const figures = document.createElement('div');
      figures.className = 'pass-figures';
      figures.append(
        ...(isMeterPass(details) ? meterFigures(image, details) : passFigures(image, details, 'input image')),
      );
      if (passes.length > 1 || title)
        section.append(Object.assign(document.createElement('h3'), { textContent: title }));
      section.append(figures);
      return section;
    }),
  );
}

/** Empties the results panel (a task switch: nothing shown belongs to the new task yet). */
export function clearResults(): void {
  $('answer').textContent = '—';
  delete $('answer').dataset['image'];
  $('expected').hidden = true;
  for (const id of ['scores', 'ranking', 'overlays']) $(id).replaceChildren();
  for (const id of ['latency', 'provider', 'adapter', 'tokens', 'layer-tokens']) $(id).textContent = '—';
  delete $('provider').dataset['provider'];
  $('backend-warning').hidden = true;
}

export function renderVqa(run: DemoRun<VqaResult | MeterVqaResult>, image: HTMLImageElement): void {
  const { result } = run;
  $('answer').textContent = result.answers[0]!.label;
  $('scores').replaceChildren(...result.answers.map((a) => scoreRow(a.label, a.score, a.score.toFixed(3))));
  const [details] = passesOf(result.details!);
  renderFacts(run, details!);
  renderPasses([{ title: '', image, details: details! }]);
}

export function renderNlvr2(
  run: DemoRun<Nlvr2Result | MeterNlvr2Result>,
  images: readonly [HTMLImageElement, HTMLImageElement],
  expected: boolean | null,
): void {
  const { result } = run;
  $('answer').textContent = result.label;
  const note = $('expected');
  note.hidden = expected === null;
  if (expected !== null)
    note.textContent = `The eval set says: ${expected ? 'True' : 'False'}${expected === result.value ? ' ✓' : ' ✗'}`;
  $('scores').replaceChildren(
    ...result.classes.map((c) => scoreRow(c.label, c.probability, c.probability.toFixed(3))),
  );
  const [left, right] = passesOf(result.details!);
  renderFacts(run, left!);
  renderPasses([
    { title: 'left image — its own pass', image: images[0], details: left! },
    { title: 'right image — its own pass', image: images[1], details: right! },
  ]);
}

export function renderRanking(
  run: DemoRun<GalleryRanking>,
  gallery: readonly { readonly item: GalleryImage; readonly bitmap: HTMLImageElement }[],
  imageUrl: (name: string) => string,
): void {
  const { ranking, best } = run.result;
  const order = ranking.textToImage[0]!;
  // Bars: softmax of the caption's scores over the gallery (text → image retrieval's own normalisation).
  const max = order[0]!.score;
  const sum = order.reduce((s, m) => s + Math.exp(m.score - max), 0);
  const top = gallery[order[0]!.index]!;
  $('answer').textContent = top.item.caption;
  $('answer').dataset['image'] = top.item.image;
  $('ranking').replaceChildren(
    ...order.map((m, rank) => {
      const { item } = gallery[m.index]!;
      const li = scoreRow(item.caption, Math.exp(m.score - max) / sum, m.score.toFixed(2));
      li.dataset['image'] = item.image;
      const thumb = Object.assign(document.createElement('img'), {
        src: imageUrl(item.image),
        alt: item.caption,
      });
      li.prepend(
        Object.assign(document.createElement('span'), { className: 'rank', textContent: `${rank + 1}` }),
        thumb,
      );
      return li;
    }),
  );
  const [details] = passesOf(best.details!);
  renderFacts(run, details!);
  renderPasses([
    { title: `best match (${top.item.image}) — its pass`, image: top.bitmap, details: details! },
  ]);
}
