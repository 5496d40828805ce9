/**
 * The epsilon of the authors' differentiable masked softmax (docs/reducers.md, "Soft-mask attention"):
 * p_j = (m_j e_j + eps/N) / (Σ m e + eps). Both backends' attention read it from here.
 */
export const SOFT_MASK_EPS = 1e-6;
