/**
 * What the good contract cases return on the CPU reference (7 significant digits), keyed by case name. To
 * regenerate after a deliberate change of semantics: run the suite on cpu, read each failing result's `value`.
 */
export const EXPECTED: Readonly<Record<string, unknown>> = {
  'saliency first_head': { shape: [1, 2], data: [0.4, 0.2666667] },
  'saliency mean_head': { shape: [1, 2], data: [0.4333333, 0.3666667] },
  'saliency k_metric': { shape: [1, 2], data: [1.333333, -0.3333333] },
  'saliency qk': { shape: [1, 2], data: [2, 0] },
  'prune keep 4 of 5, ties lower index first': {
    keepIdx: { shape: [2, 4], data: [1, 3, 0, 2, 4, 3, 0, 1] },
    scores: { shape: [2, 4], data: [0.9, 0.9, 0.5, 0.5, 0.5, 0.4, 0.3, 0.2] },
  },
  'prune keep all': {
    keepIdx: { shape: [2, 5], data: [1, 3, 0, 2, 4, 4, 3, 0, 1, 2] },
    scores: { shape: [2, 5], data: [0.9, 0.9, 0.5, 0.5, 0.1, 0.5, 0.4, 0.3, 0.2, 0.1] },
  },
  'merge tip r=1': {
    x: { shape: [1, 4, 2], data: [1, 0, 1, 1, 0, 1, 2, 2] },
    size: null,
    dst: { shape: [1, 5], data: [0, 2, 1, 3, 3] },
    r: 1,
  },
  'merge tome r=1 protecting row 0': {
    x: { shape: [1, 4, 2], data: [1, 0, 1, 1, 0, 1, 1, 1] },
    size: { shape: [1, 4, 1], data: [1, 1, 1, 2] },
    dst: { shape: [1, 5], data: [0, 2, 1, 3, 3] },
    r: 1,
  },
  'merge tome r=2 unprotected, with sizes': {
    x: { shape: [1, 3, 2], data: [1, 0, 0, 1, 1, 1] },
    size: { shape: [1, 3, 1], data: [1, 2, 3] },
    dst: { shape: [1, 5], data: [0, 1, 2, 2, 2] },
    r: 2,
  },
  'merge diff r=2': {
    x: { shape: [1, 3, 2], data: [1, 0, 1, 2, 2, 2] },
    size: null,
    dst: { shape: [1, 5], data: [0, 1, 1, 2, 2] },
    r: 2,
  },
  'merge r=0 changes nothing': {
    x: { shape: [1, 5, 2], data: [1, 0, 0, 1, 1, 1, 2, 0, 0, 2] },
    size: { shape: [1, 5, 1], data: [1, 1, 1, 1, 1] },
    dst: { shape: [1, 5], data: [0, 1, 2, 3, 4] },
    r: 0,
  },
  'merge r above the limit is clamped': {
    x: { shape: [1, 3, 2], data: [1, 0, 0, 1, 1, 1] },
    size: { shape: [1, 3, 1], data: [1, 1, 3] },
    dst: { shape: [1, 5], data: [0, 1, 2, 2, 2] },
    r: 2,
  },
  'block without reduction': {
    textLen: 3,
    x: {
      shape: [1, 11, 4],
      data: [
        0.5027819, -1.283162, -0.1889445, -0.5978044, 0.4648151, -0.8510041, -1.135049, 0.8406993, 1.334304,
        -0.8126358, 0.4167189, -0.2203986, -0.7442917, -1.058999, -0.3292418, 0.5019733, 0.7437812,
        -0.1726647, -0.3718609, -0.6798555, 1.189456, 1.174499, -0.3770311, 0.934287, 0.8022155, 1.258002,
        0.5339665, 0.9279603, 1.162931, 1.113264, -0.4528495, 0.08463053, -0.3600467, -0.394358, -0.6715389,
        0.6573485, -0.06167813, 0.1449343, 0.04609519, 0.7560107, 0.1752319, 0.2220335, 0.5850513, 0.1821322,
      ],
    },
    mask: { shape: [1, 11], data: [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1] },
    keepIdx: null,
    imageDst: null,
    textDst: null,
  },
  'block reducing (aggressive at layer 0)': {
    textLen: 2,
    x: {
      shape: [1, 6, 4],
      data: [
        0.5027819, -1.283162, -0.1889445, -0.5978044, 0.8699802, -0.8611391, -0.3723286, 0.2581842, 0.1752319,
        0.2220335, 0.5850513, 0.1821322, 1.408002, 0.9349828, 0.02230607, 0.3009093, -0.8808885, -0.9238628,
        -0.2856787, 1.354104, 1.162931, 1.113264, -0.4528495, 0.08463053,
      ],
    },
    mask: { shape: [1, 6], data: [1, 0.5, 1, 1, 1, 1] },
    keepIdx: { shape: [1, 6], data: [7, 1, 6, 0, 3, 4] },
    imageDst: { shape: [1, 6], data: [0, 1, 2, 2, 1, 3] },
    textDst: { shape: [1, 3], data: [0, 1, 1] },
  },
  'block whose layer is not a reduce layer': {
    textLen: 3,
    x: {
      shape: [1, 11, 4],
      data: [
        0.5027819, -1.283162, -0.1889445, -0.5978044, 0.4648151, -0.8510041, -1.135049, 0.8406993, 1.334304,
        -0.8126358, 0.4167189, -0.2203986, -0.7442917, -1.058999, -0.3292418, 0.5019733, 0.7437812,
        -0.1726647, -0.3718609, -0.6798555, 1.189456, 1.174499, -0.3770311, 0.934287, 0.8022155, 1.258002,
        0.5339665, 0.9279603, 1.162931, 1.113264, -0.4528495, 0.08463053, -0.3600467, -0.394358, -0.6715389,
        0.6573485, -0.06167813, 0.1449343, 0.04609519, 0.7560107, 0.1752319, 0.2220335, 0.5850513, 0.1821322,
      ],
    },
    mask: { shape: [1, 11], data: [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1] },
    keepIdx: null,
    imageDst: null,
    textDst: null,
  },
};
