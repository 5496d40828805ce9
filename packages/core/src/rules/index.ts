export * from './checks.js';
export * from './co-attention-plan.js';
export * from './layer-plan.js';
export * from './merge-styles.js';
export * from './saliency-methods.js';
export * from './soft-mask.js';
export * from './training-free.js';
