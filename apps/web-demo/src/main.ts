import type { DecodedImage, LoadedVilt } from '@pumer/vilt';
import { backendLabel, fallbackNote } from './backend-label.js';
import { type FolderFile, filesFromDrop, filesFromInput, folderName } from './checkpoint-folder.js';
import {
  ask,
  type BackendChoice,
  type BundledImage,
  type BundledPair,
  type DemoModel,
  type DemoTask,
  demoTask,
  isMeter,
  type GalleryImage,
  galleryImageUrl,
  imageUrl,
  judge,
  loadBundledImages,
  loadBundledPairs,
  loadGallery,
  loadModel,
  loadModelFromFolder,
  modelShape,
  pairImageUrl,
  rankGallery,
  type StartBackend,
  startBackend,
} from './engine.js';
import { clearResults, renderNlvr2, renderRanking, renderVqa } from './results-view.js';
import { scheduleOptions } from './schedules.js';

/**
 * The page: starts on the best backend this browser has and answers the first bundled VQA question at once;
 * then pick a task (VQA, NLVR2, retrieval), an image / pair / caption, switch backend or schedule, and see
 * the answer and the patches' fates in every image pass.
 */

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const taskSelect = $<HTMLSelectElement>('task');
const gallery = $<HTMLFieldSetElement>('gallery');
const pairsPicker = $<HTMLFieldSetElement>('pairs');
const retrievalGallery = $<HTMLFieldSetElement>('retrieval-gallery');
const upload = $<HTMLInputElement>('upload');
const textBox = $<HTMLInputElement>('question');
const textList = $<HTMLDataListElement>('questions');
const backendSelect = $<HTMLSelectElement>('backend');
const scheduleSelect = $<HTMLSelectElement>('schedule');
const askButton = $<HTMLButtonElement>('ask');
const status = $<HTMLParagraphElement>('status');
const modelFolder = $<HTMLInputElement>('model-folder');
const modelDrop = $<HTMLDivElement>('model-drop');
const modelName = $<HTMLElement>('model-name');
const modelEmbedded = $<HTMLButtonElement>('model-embedded');
const backendNote = $<HTMLParagraphElement>('backend-note');

/** What the page says per task: headings, the run button, and what the model answers. */
const TASK_WORDING: Readonly<
  Record<
    DemoTask,
    {
      name: string;
      image: string;
      text: string;
      run: string;
      answer: string;
      answers: (m: DemoModel) => string;
    }
  >
> = {
  vqa: {
    name: 'VQA',
    image: '2 · Image',
    text: '3 · Question',
    run: 'Ask',
    answer: 'Answer',
    answers: (m) => `${m.model.labels.length} answers`,
  },
  nlvr2: {
    name: 'NLVR2',
    image: '2 · Image pair',
    text: '3 · Statement',
    run: 'True or false?',
    answer: 'Is the statement true of the pair?',
    answers: () => 'true / false over an image pair',
  },
  retrieval: {
    name: 'retrieval',
    image: '2 · Gallery',
    text: '3 · Caption',
    run: 'Rank the gallery',
    answer: 'Best match',
    answers: () => 'a match score per caption and image',
  },
};

interface ShownImage {
  readonly pixels: DecodedImage;
  readonly bitmap: HTMLImageElement;
}

let task: DemoTask = 'vqa';
/** The model each task runs on: its embedded one, or a folder the user opened. */
const models: Partial<Record<DemoTask, { loaded: DemoModel; name: string }>> = {};
/** The models shipped with the page (loaded on a task's first use), kept so the user can go back to them. */
const embedded: Partial<Record<DemoTask, LoadedVilt>> = {};
/** Each task's text, kept across task switches. */
const texts: Record<DemoTask, string> = { vqa: '', nlvr2: '', retrieval: '' };
/** Each task's bundled texts, for the text box's suggestions. */
const suggestions: Record<DemoTask, string[]> = { vqa: [], nlvr2: [], retrieval: [] };
/** Tasks whose embedded model and bundled examples are loaded (or loading). */
const prepared = new Map<DemoTask, Promise<void>>();
let current: (ShownImage & { name: string }) | null = null;
let pair: { bundled: BundledPair; images: readonly [ShownImage, ShownImage] } | null = null;
let rankGalleryImages: (ShownImage & { item: GalleryImage })[] = [];
let running = false;
/** Something changed while a run was on: run again when it ends. */
let rerun = false;

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

async function shownImage(src: string): Promise<ShownImage> {
  const bitmap = await loadImage(src);
  return { pixels: pixelsOf(bitmap), bitmap };
}

function thumbnail(src: string, alt: string): HTMLImageElement {
  return Object.assign(document.createElement('img'), { src, alt });
}

function pickerButton(name: string, title: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset['name'] = name;
  button.title = title;
  button.addEventListener('click', onClick);
  return button;
}

function markSelected(picker: HTMLElement, name: string): void {
  for (const el of picker.querySelectorAll('button'))
    el.classList.toggle('selected', el.dataset['name'] === name);
}

/** Sets task `t`'s text (and the text box, when `t` is the task shown). */
function setText(t: DemoTask, value: string): void {
  texts[t] = value;
  if (task === t) textBox.value = value;
}

async function selectImage(src: string, name: string, question?: string): Promise<void> {
  current = { ...(await shownImage(src)), name };
  markSelected(gallery, name);
  if (question) setText('vqa', question);
}

async function selectPair(bundled: BundledPair): Promise<void> {
  const [left, right] = await Promise.all([
    shownImage(pairImageUrl(bundled.left)),
    shownImage(pairImageUrl(bundled.right)),
  ]);
  pair = { bundled, images: [left, right] };
  markSelected(pairsPicker, bundled.left);
  setText('nlvr2', bundled.statement);
}

function renderGallery(images: BundledImage[]): void {
  for (const item of images) {
    const button = pickerButton(item.image, item.question, () => {
      void selectImage(imageUrl(item.image), item.image, item.question);
    });
    button.append(thumbnail(imageUrl(item.image), item.question));
    gallery.append(button);
  }
  suggestions.vqa = images.map((i) => i.question);
}

function renderPairs(pairs: BundledPair[]): void {
  for (const bundled of pairs) {
    const title = `${bundled.statement} (${bundled.label ? 'true' : 'false'})`;
    const button = pickerButton(bundled.left, title, () => {
      void selectPair(bundled).catch((e: Error) => setStatus('error', e.message));
    });
    button.append(
      thumbnail(pairImageUrl(bundled.left), `left: ${bundled.statement}`),
      thumbnail(pairImageUrl(bundled.right), `right: ${bundled.statement}`),
    );
    pairsPicker.append(button);
  }
  suggestions.nlvr2 = pairs.map((p) => p.statement);
}

async function renderRetrievalGallery(items: GalleryImage[]): Promise<void> {
  rankGalleryImages = await Promise.all(
    items.map(async (item) => ({ ...(await shownImage(galleryImageUrl(item.image))), item })),
  );
  for (const item of items) {
    const button = pickerButton(item.image, item.caption, () => {
      markSelected(retrievalGallery, item.image);
      setText('retrieval', item.caption);
    });
    button.append(thumbnail(galleryImageUrl(item.image), item.caption));
    retrievalGallery.append(button);
  }
  suggestions.retrieval = items.map((i) => i.caption);
}

/** The schedule menu for this model's depth and family; the selected schedule stays selected. */
function renderSchedules(loaded: DemoModel): void {
  const selected = scheduleSelect.value;
  const shape = modelShape(loaded);
  scheduleSelect.replaceChildren(
    ...scheduleOptions(shape.depth, loaded.reduction, shape.family).map((o) =>
      Object.assign(document.createElement('option'), {
        value: o.value,
        textContent: o.label,
        selected: o.value === selected,
      }),
    ),
  );
}

/** Shows the current task's model: its name, the schedules for its depth, its patch grid. */
function showModel(): void {
  const shown = models[task];
  if (!shown) return;
  const { loaded, name } = shown;
  renderSchedules(loaded);
  modelName.textContent = name;
  modelEmbedded.hidden = loaded === embedded[task];
  const g = modelShape(loaded);
  const grid = (g.imageSize / g.patchSize) ** 2;
  const perImage = task === 'nlvr2' ? ' per image (one pass each)' : '';
  const model = isMeter(loaded) ? "METER's image encoder" : 'ViLT';
  $('patch-hint').textContent =
    `Patches are ${g.patchSize}×${g.patchSize} pixels; at ${g.imageSize}×${g.imageSize} ${model} sees ${grid} of them plus an image [CLS] token${perImage}, and ${g.textTokens} text tokens.`;
  const what = isMeter(loaded)
    ? `METER, ${g.depth} co-attention steps`
    : `${loaded.config.layout === 'hf' ? 'Hugging Face' : "the PuMer authors'"} layout, ${g.depth} layers`;
  setStatus('ready', `Model loaded: ${name} (${what}), ${TASK_WORDING[task].answers(loaded)}. Ask away.`);
}

/** Loads a task's embedded model and bundled examples, once. */
function prepareTask(t: DemoTask): Promise<void> {
  let p = prepared.get(t);
  if (!p) {
    p = (async () => {
      const loading = loadModel(t);
      if (t === 'vqa') {
        const images = await loadBundledImages();
        renderGallery(images);
        const first = images[0]!;
        await selectImage(imageUrl(first.image), first.image, first.question);
      } else if (t === 'nlvr2') {
        const pairs = await loadBundledPairs();
        renderPairs(pairs);
        await selectPair(pairs[0]!);
      } else {
        const items = await loadGallery();
        await renderRetrievalGallery(items);
        setText('retrieval', items[0]!.caption);
      }
      const loaded = await loading;
      embedded[t] = loaded;
      // A folder opened while the embedded model was loading wins.
      models[t] ??= { loaded, name: 'the embedded tiny model' };
    })();
    p.catch(() => prepared.delete(t));
    prepared.set(t, p);
  }
  return p;
}

/** Shows `t`'s controls and empty results; its model and examples load on first use. */
async function showTask(t: DemoTask): Promise<void> {
  texts[task] = textBox.value;
  task = t;
  taskSelect.value = t;
  for (const el of document.querySelectorAll<HTMLElement>('[data-for]'))
    el.hidden = !el.dataset['for']!.split(' ').includes(t);
  const wording = TASK_WORDING[t];
  $('image-heading').textContent = wording.image;
  $('text-heading').textContent = wording.text;
  $('answer-heading').textContent = wording.answer;
  $('answer').classList.toggle('caption', t === 'retrieval');
  askButton.textContent = wording.run;
  clearResults();
  if (!prepared.has(t)) setStatus('loading', `Loading the ${wording.name} model and its examples…`);
  await prepareTask(t);
  if (task !== t) return;
  textBox.value = texts[t];
  textList.replaceChildren(
    ...suggestions[t].map((value) => Object.assign(document.createElement('option'), { value })),
  );
  showModel();
}

/** Runs the current task once on the selected backend and schedule, and shows what it found. */
async function runOnce(): Promise<void> {
  const t = task;
  const model = models[t]?.loaded;
  if (!model) return;
  const backend = backendSelect.value as BackendChoice;
  const schedule = scheduleSelect.value;
  const text = textBox.value;
  texts[t] = text;
  setStatus(
    'running',
    `Running on ${backendSelect.selectedOptions[0]!.text}${backend === 'webgpu' ? ' (the first run compiles shaders)' : ''}…`,
  );
  let ranOn: string;
  let did: string;
  if (t === 'vqa') {
    if (!current) return;
    const shown = current;
    const run = await ask(model, shown.pixels, text, backend, schedule);
    if (task !== t) return;
    renderVqa(run, shown.bitmap);
    ranOn = backendLabel(run.info);
    did = 'Answered';
  } else if (t === 'nlvr2') {
    if (!pair) return;
    const shown = pair;
    const run = await judge(model, [shown.images[0].pixels, shown.images[1].pixels], text, backend, schedule);
    if (task !== t) return;
    // The eval set's label holds for the bundled statement only.
    const expected = text === shown.bundled.statement ? shown.bundled.label : null;
    renderNlvr2(run, [shown.images[0].bitmap, shown.images[1].bitmap], expected);
    ranOn = backendLabel(run.info);
    did = 'Answered';
  } else {
    const shown = rankGalleryImages;
    if (shown.length === 0) return;
    const run = await rankGallery(
      model,
      shown.map((g) => g.pixels),
      text,
      backend,
      schedule,
    );
    if (task !== t) return;
    renderRanking(run, shown, galleryImageUrl);
    ranOn = backendLabel(run.info);
    did = `Ranked ${shown.length} images`;
  }
  setStatus('done', `${did} on ${ranOn} with schedule “${scheduleSelect.selectedOptions[0]!.text}”.`);
}

async function run(): Promise<void> {
  if (running) {
    rerun = true;
    return;
  }
  running = true;
  askButton.disabled = true;
  try {
    do {
      rerun = false;
      try {
        await runOnce();
      } catch (err) {
        setStatus('error', err instanceof Error ? err.message : String(err));
      }
    } while (rerun);
  } finally {
    running = false;
    askButton.disabled = false;
  }
}

/** Makes a folder's checkpoint the model of its head's task, and switches to that task. */
async function useFolderModel(loaded: DemoModel, name: string): Promise<void> {
  const t = demoTask(loaded);
  if (t === null)
    throw new Error(`it answers ${loaded.model.task}; the demo shows VQA, NLVR2 and retrieval checkpoints`);
  await prepareTask(t);
  models[t] = { loaded, name };
  if (t === task) showModel();
  else await showTask(t);
}

/** Loads a checkpoint folder from the user's disk; what is wrong with it shows in the status line. */
async function openFolder(files: FolderFile[]): Promise<void> {
  if (files.length === 0 || running) return;
  const name = folderName(files);
  setStatus('loading', `Loading the checkpoint folder “${name}”…`);
  try {
    await useFolderModel(await loadModelFromFolder(files), `folder “${name}”`);
  } catch (err) {
    setStatus('error', `Could not open “${name}”: ${err instanceof Error ? err.message : String(err)}`);
  }
}

askButton.addEventListener('click', () => void run());
textBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') void run();
});
// Switching task, backend or schedule re-runs in place: no reload, each model is loaded once.
taskSelect.addEventListener('change', () => {
  void showTask(taskSelect.value as DemoTask)
    .then(run)
    .catch((e: Error) => setStatus('error', e.message));
});
backendSelect.addEventListener('change', () => void run());
scheduleSelect.addEventListener('change', () => void run());
modelFolder.addEventListener('change', () => void openFolder(filesFromInput(modelFolder.files)));
modelEmbedded.addEventListener('click', () => {
  const own = embedded[task];
  if (own && !running) {
    models[task] = { loaded: own, name: 'the embedded tiny model' };
    showModel();
  }
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
    const [backend] = await Promise.all([startBackend(), prepareTask('vqa')]);
    useStartBackend(backend);
    if (task === 'vqa') await showTask('vqa');
    // The first bundled question is answered on load: the page shows what it does before any click.
    await run();
  } catch (err) {
    setStatus('error', err instanceof Error ? err.message : String(err));
  }
}

void start();
