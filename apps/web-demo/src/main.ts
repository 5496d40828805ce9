import type { DecodedImage, LoadedVilt } from '@pumer/vilt';
import { backendLabel, fallbackNote } from './backend-label.js';
import { type FolderFile, filesFromDrop, filesFromInput, folderName } from './checkpoint-folder.js';
import {
  ask,
  type BackendChoice,
  type BundledImage,
  imageUrl,
  loadBundledImages,
  loadModel,
  loadModelFromFolder,
  type StartBackend,
  startBackend,
} from './engine.js';
import { drawLayer, summarise } from './overlay.js';
import { scheduleOptions } from './schedules.js';

/**
 * The page: starts on the best backend this browser has and answers the first bundled question at once;
 * then pick an image, ask, switch backend or schedule, see the answer and the patches' fates.
 */

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const gallery = $<HTMLFieldSetElement>('gallery');
const upload = $<HTMLInputElement>('upload');
const questionBox = $<HTMLInputElement>('question');
const questionList = $<HTMLDataListElement>('questions');
const backendSelect = $<HTMLSelectElement>('backend');
const scheduleSelect = $<HTMLSelectElement>('schedule');
const askButton = $<HTMLButtonElement>('ask');
const status = $<HTMLParagraphElement>('status');
const modelFolder = $<HTMLInputElement>('model-folder');
const modelDrop = $<HTMLDivElement>('model-drop');
const modelName = $<HTMLElement>('model-name');
const modelEmbedded = $<HTMLButtonElement>('model-embedded');
const backendNote = $<HTMLParagraphElement>('backend-note');
const backendWarning = $<HTMLParagraphElement>('backend-warning');

let model: LoadedVilt | null = null;
/** The model shipped with the page, kept so the user can go back to it after opening a folder. */
let embedded: LoadedVilt | null = null;
let current: { pixels: DecodedImage; bitmap: HTMLImageElement; name: string } | null = null;
let running = false;

function setStatus(state: 'loading' | 'ready' | 'running' | 'done' | 'error', text: string): void {
  status.dataset['state'] = state;
  status.textContent = text;
}

/** Decodes an image element into RGBA pixels through a canvas. */
function pixelsOf(img: HTMLImageElement): DecodedImage {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { data: data.data, width: data.width, height: data.height, channels: 4 };
}

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((ok, fail) => {
    const img = new Image();
    img.onload = () => ok(img);
    img.onerror = () => fail(new Error(`could not decode ${src}`));
    img.src = src;
  });
}

async function selectImage(src: string, name: string, question?: string): Promise<void> {
  const img = await loadImage(src);
  current = { pixels: pixelsOf(img), bitmap: img, name };
  for (const el of gallery.querySelectorAll('button'))
    el.classList.toggle('selected', el.dataset['name'] === name);
  if (question) questionBox.value = question;
}

function renderGallery(images: BundledImage[]): void {
  for (const item of images) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset['name'] = item.image;
    button.title = item.question;
    const img = document.createElement('img');
    img.src = imageUrl(item.image);
    img.alt = item.question;
    button.append(img);
    button.addEventListener('click', () => void selectImage(imageUrl(item.image), item.image, item.question));
    gallery.append(button);
    const option = document.createElement('option');
    option.value = item.question;
    questionList.append(option);
  }
}

/** The schedule menu for this model's depth; the checkpoint's own stays selected. */
function renderSchedules(loaded: LoadedVilt): void {
  const selected = scheduleSelect.value;
  scheduleSelect.replaceChildren(
    ...scheduleOptions(loaded.config.geometry.numLayers, loaded.reduction).map((o) =>
      Object.assign(document.createElement('option'), {
        value: o.value,
        textContent: o.label,
        selected: o.value === selected,
      }),
    ),
  );
}

function renderResult(run: Awaited<ReturnType<typeof ask>>): void {
  const { result, ms, info } = run;
  const best = result.answers[0]!;
  $('answer').textContent = best.label;
  const scores = $<HTMLOListElement>('scores');
  scores.replaceChildren(
    ...result.answers.map((a) => {
      const li = document.createElement('li');
      li.innerHTML = `<span class="label"></span><span class="bar"><i style="width:${(a.score * 100).toFixed(1)}%"></i></span><span class="score">${a.score.toFixed(3)}</span>`;
      li.querySelector('.label')!.textContent = a.label;
      return li;
    }),
  );
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
  backendWarning.textContent = info.warning ?? '';
  backendWarning.hidden = !info.warning;
  $('adapter').textContent =
    (info as { adapter?: string }).adapter ??
    (info.provider === 'typescript' ? 'none (plain TypeScript)' : 'none (CPU)');
  const details = result.details!;
  const first = details.layers[0]!;
  const last = details.layers[details.layers.length - 1]!;
  $('tokens').textContent =
    `${first.textIn} text + ${first.imageIn} image → ${last.textOut} + ${last.imageOut}`;
  const overlays = $<HTMLDivElement>('overlays');
  overlays.replaceChildren();
  const original = document.createElement('figure');
  const originalCanvas = document.createElement('canvas');
  originalCanvas.width = details.grid.cols * 32;
  originalCanvas.height = details.grid.rows * 32;
  const octx = originalCanvas.getContext('2d')!;
  octx.imageSmoothingEnabled = false;
  octx.drawImage(current!.bitmap, 0, 0, originalCanvas.width, originalCanvas.height);
  original.append(
    originalCanvas,
    Object.assign(document.createElement('figcaption'), { textContent: 'input image' }),
  );
  overlays.append(original);
  if (details.reduceLayers.length === 0) {
    overlays.append(
      Object.assign(document.createElement('p'), {
        className: 'note',
        textContent: 'Schedule off: every layer keeps all tokens.',
      }),
    );
  }
  for (const layer of details.reduceLayers) {
    const figure = document.createElement('figure');
    figure.className = 'reduce-layer';
    const canvas = document.createElement('canvas');
    drawLayer(canvas, current!.bitmap, details, layer);
    const s = summarise(layer);
    const caption = document.createElement('figcaption');
    caption.innerHTML = `<b>layer ${layer.layer}</b> · image ${layer.imageIn} → ${layer.imageOut}, text ${layer.textIn} → ${layer.textOut}<br><span>${s.kept} kept · ${s.merged} merged · ${s.pruned} pruned</span>`;
    figure.append(canvas, caption);
    overlays.append(figure);
  }
}

/** Makes `loaded` the model the next question runs on. */
function useModel(loaded: LoadedVilt, name: string): void {
  model = loaded;
  renderSchedules(loaded);
  modelName.textContent = name;
  modelEmbedded.hidden = loaded === embedded;
  const g = loaded.config.geometry;
  const grid = (g.imageSize / g.patchSize) ** 2;
  $('patch-hint').textContent =
    `Patches are ${g.patchSize}×${g.patchSize} pixels; at ${g.imageSize}×${g.imageSize} ViLT sees ${grid} of them plus an image [CLS] token, and ${g.maxTextLength} text tokens.`;
  const layout = loaded.config.layout === 'hf' ? 'Hugging Face' : "the PuMer authors'";
  setStatus(
    'ready',
    `Model loaded: ${name} (${layout} layout), ${loaded.config.geometry.numLayers} layers, ${loaded.model.labels.length} answers. Ask away.`,
  );
}

/** Loads a checkpoint folder from the user's disk; what is wrong with it shows in the status line. */
async function openFolder(files: FolderFile[]): Promise<void> {
  if (files.length === 0 || running) return;
  const name = folderName(files);
  setStatus('loading', `Loading the checkpoint folder “${name}”…`);
  try {
    useModel(await loadModelFromFolder(files), `folder “${name}”`);
  } catch (err) {
    setStatus('error', `Could not open “${name}”: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function run(): Promise<void> {
  if (!model || !current || running) return;
  running = true;
  askButton.disabled = true;
  const backend = backendSelect.value as BackendChoice;
  const schedule = scheduleSelect.value;
  setStatus(
    'running',
    `Running on ${backendSelect.selectedOptions[0]!.text}${backend === 'webgpu' ? ' (the first run compiles shaders)' : ''}…`,
  );
  try {
    const result = await ask(model, current.pixels, questionBox.value, backend, schedule);
    renderResult(result);
    setStatus(
      'done',
      `Answered on ${backendLabel(result.info)} with schedule “${scheduleSelect.selectedOptions[0]!.text}”.`,
    );
  } catch (err) {
    setStatus('error', err instanceof Error ? err.message : String(err));
  } finally {
    running = false;
    askButton.disabled = false;
  }
}

askButton.addEventListener('click', () => void run());
questionBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') void run();
});
// Switching backend or schedule re-runs the same question in place.
backendSelect.addEventListener('change', () => void run());
scheduleSelect.addEventListener('change', () => void run());
modelFolder.addEventListener('change', () => void openFolder(filesFromInput(modelFolder.files)));
modelEmbedded.addEventListener('click', () => {
  if (embedded && !running) useModel(embedded, 'the embedded tiny model');
});
modelDrop.addEventListener('dragover', (e) => {
  e.preventDefault();
  modelDrop.classList.add('dragging');
});
modelDrop.addEventListener('dragleave', () => modelDrop.classList.remove('dragging'));
modelDrop.addEventListener('drop', (e) => {
  e.preventDefault();
  modelDrop.classList.remove('dragging');
  void filesFromDrop(e.dataTransfer)
    .then(openFolder)
    .catch((err: Error) => setStatus('error', err.message));
});
upload.addEventListener('change', () => {
  const file = upload.files?.[0];
  if (file)
    void selectImage(URL.createObjectURL(file), file.name).catch((e: Error) => setStatus('error', e.message));
});

/** Selects the backend the page starts on; without WebGPU, greys it out and says why in one line. */
function useStartBackend(start: StartBackend): void {
  backendSelect.value = start.choice;
  if (start.webGpuUnavailable === undefined) return;
  const option = backendSelect.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
  option.disabled = true;
  option.textContent = 'WebGPU (not available)';
  option.title = start.webGpuUnavailable;
  backendNote.textContent = fallbackNote(start.webGpuUnavailable);
  backendNote.hidden = false;
}

async function start(): Promise<void> {
  try {
    // The backend starts (WebGPU: adapter, device, onnxruntime-web) while the model downloads.
    const [loaded, images, backend] = await Promise.all([loadModel(), loadBundledImages(), startBackend()]);
    embedded = loaded;
    useStartBackend(backend);
    renderGallery(images);
    const first = images[0]!;
    await selectImage(imageUrl(first.image), first.image, first.question);
    // A folder opened while the embedded model was loading wins.
    if (model === null) useModel(loaded, 'the embedded tiny model');
    // The first bundled question is answered on load: the page shows what it does before any click.
    await run();
  } catch (err) {
    setStatus('error', err instanceof Error ? err.message : String(err));
  }
}

void start();
