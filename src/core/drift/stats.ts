/**
 * Drift statistics between a baseline and a live sample. Pure.
 *
 * Numeric features compare two step CDFs (sketch sorted views; exact when the sketches are):
 * - KS distance D = sup |F_b - F_l| (scipy's ks_2samp statistic), and Model Monitor's robust
 *   correction max(0, D - 1.8 * sqrt((n + m) / (n * m))).
 * - PSI on the baseline's decile bins: sum (l - b) * ln(l / b) over bin shares. A bin whose share is
 *   0 on either side counts as PSI_EPSILON (1e-4) on that side; those bins are reported.
 * - Normalized Wasserstein: W1 = integral |F_b - F_l| dx (scipy's wasserstein_distance), divided
 *   by the baseline's standard deviation (population, ddof=0), so 0.1 means "the mass moved a
 *   tenth of a baseline std on average". With a constant baseline (std 0) the raw W1 is reported.
 * Categorical features compare value counts:
 * - L-infinity distance: max over categories of |share_b - share_l|.
 * - Chi-squared test of homogeneity on the 2 x K table (scipy's chi2_contingency, no continuity
 *   correction), statistic and p-value.
 * - Jensen-Shannon divergence, base 2 (in [0, 1]; scipy's jensenshannon(p, q, base=2) squared).
 */
import type { SortedView } from './sketch.js';
import { lowerBound } from './sketch.js';

export const PSI_EPSILON = 1e-4;

/** Two-sample Kolmogorov-Smirnov distance between two step CDFs. */
export function ksDistance(a: SortedView, b: SortedView): number {
  if (a.total === 0 || b.total === 0) return NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  const na = a.values.length;
  const nb = b.values.length;
  while (i < na || j < nb) {
    const x = j >= nb || (i < na && a.values[i] <= b.values[j]) ? a.values[i] : b.values[j];
    while (i < na && a.values[i] <= x) i++;
    while (j < nb && b.values[j] <= x) j++;
    const fa = i === 0 ? 0 : a.cum[i - 1] / a.total;
    const fb = j === 0 ? 0 : b.cum[j - 1] / b.total;
    const diff = Math.abs(fa - fb);
    if (diff > d) d = diff;
  }
  return d;
}

/** SageMaker Model Monitor's robust KS: the distance less a sample-size allowance, floored at 0. */
export function robustKs(d: number, n: number, m: number): number {
  if (!(n > 0 && m > 0)) return NaN;
  return Math.max(0, d - 1.8 * Math.sqrt((n + m) / (n * m)));
}

/** First Wasserstein distance between two step CDFs (area between them). */
export function wasserstein(a: SortedView, b: SortedView): number {
  if (a.total === 0 || b.total === 0) return NaN;
  let i = 0;
  let j = 0;
  let w = 0;
  const na = a.values.length;
  const nb = b.values.length;
  let prev = NaN;
  let fa = 0;
  let fb = 0;
  while (i < na || j < nb) {
    const x = j >= nb || (i < na && a.values[i] <= b.values[j]) ? a.values[i] : b.values[j];
    if (!Number.isNaN(prev)) w += Math.abs(fa - fb) * (x - prev);
    while (i < na && a.values[i] <= x) i++;
    while (j < nb && b.values[j] <= x) j++;
    fa = i === 0 ? 0 : a.cum[i - 1] / a.total;
    fb = j === 0 ? 0 : b.cum[j - 1] / b.total;
    prev = x;
  }
  return w;
}

/** W1 divided by the baseline std (raw W1 when the std is 0 or unknown). */
export function normalizedWasserstein(w: number, baselineStd: number): number {
  return baselineStd > 0 ? w / baselineStd : w;
}

/**
 * Bin index for the bins (-inf, e0], (e0, e1], ..., (e_last, +inf): the number of edges < x.
 */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  return lowerBound(edges, x);
}

export interface PsiResult {
  psi: number;
  /** Bins where a share was 0 and PSI_EPSILON was used: which side. */
  emptyBins: Array<{ bin: number; side: 'baseline' | 'live' | 'both' }>;
}

/** Population stability index of live bin counts against baseline bin counts (same bins). */
export function psi(baselineCounts: ArrayLike<number>, liveCounts: ArrayLike<number>): PsiResult {
  let nb = 0;
  let nl = 0;
  for (let i = 0; i < baselineCounts.length; i++) nb += baselineCounts[i];
  for (let i = 0; i < liveCounts.length; i++) nl += liveCounts[i];
  if (nb === 0 || nl === 0) return { psi: NaN, emptyBins: [] };
  let total = 0;
  const emptyBins: PsiResult['emptyBins'] = [];
  for (let i = 0; i < baselineCounts.length; i++) {
    let b = baselineCounts[i] / nb;
    let l = liveCounts[i] / nl;
    if (b === 0 && l === 0) {
      emptyBins.push({ bin: i, side: 'both' });
      continue;
    }
    if (b === 0) {
      b = PSI_EPSILON;
      emptyBins.push({ bin: i, side: 'baseline' });
    } else if (l === 0) {
      l = PSI_EPSILON;
      emptyBins.push({ bin: i, side: 'live' });
    }
    total += (l - b) * Math.log(l / b);
  }
  return { psi: total, emptyBins };
}

/** Counts aligned over the union of categories (baseline order first, then new live values). */
export function alignCounts(
  baseline: Record<string, number>,
  live: Record<string, number>,
): { categories: string[]; b: number[]; l: number[] } {
  // Own keys only: a category is any string, and "constructor" or "toString" must not find
  // Object.prototype's member (that dropped the category, or made a count of a function).
  const count = (o: Record<string, number>, c: string) => (Object.hasOwn(o, c) ? o[c] : 0);
  const categories = [...Object.keys(baseline)];
  for (const k of Object.keys(live)) if (!Object.hasOwn(baseline, k)) categories.push(k);
  return {
    categories,
    b: categories.map((c) => count(baseline, c)),
    l: categories.map((c) => count(live, c)),
  };
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** L-infinity distance between category shares, and the category where it is reached. */
export function lInfinity(b: number[], l: number[], categories?: string[]): { distance: number; category?: string } {
  const nb = sum(b);
  const nl = sum(l);
  if (nb === 0 || nl === 0) return { distance: NaN };
  let d = 0;
  let at = -1;
  for (let i = 0; i < b.length; i++) {
    const diff = Math.abs(b[i] / nb - l[i] / nl);
    if (diff > d) {
      d = diff;
      at = i;
    }
  }
  return { distance: d, category: at >= 0 && categories ? categories[at] : undefined };
}

/** Chi-squared test of homogeneity on the 2 x K table [baseline; live] (categories empty on both sides dropped). */
export function chiSquared(b: number[], l: number[]): { statistic: number; dof: number; pValue: number } {
  const nb = sum(b);
  const nl = sum(l);
  if (nb === 0 || nl === 0) return { statistic: NaN, dof: 0, pValue: NaN };
  const n = nb + nl;
  let stat = 0;
  let k = 0;
  for (let i = 0; i < b.length; i++) {
    const col = b[i] + l[i];
    if (col === 0) continue;
    k++;
    const eb = (nb * col) / n;
    const el = (nl * col) / n;
    stat += (b[i] - eb) ** 2 / eb + (l[i] - el) ** 2 / el;
  }
  const dof = k - 1;
  if (dof <= 0) return { statistic: 0, dof: 0, pValue: 1 };
  return { statistic: stat, dof, pValue: chiSquaredSurvival(stat, dof) };
}

/** Jensen-Shannon divergence (base 2) between the category shares. */
export function jensenShannon(b: number[], l: number[]): number {
  const nb = sum(b);
  const nl = sum(l);
  if (nb === 0 || nl === 0) return NaN;
  let js = 0;
  for (let i = 0; i < b.length; i++) {
    const p = b[i] / nb;
    const q = l[i] / nl;
    const m = (p + q) / 2;
    if (p > 0) js += 0.5 * p * Math.log2(p / m);
    if (q > 0) js += 0.5 * q * Math.log2(q / m);
  }
  return Math.max(0, js);
}

/** P(X > x) for X ~ chi-squared(dof): the regularized upper incomplete gamma Q(dof/2, x/2). */
export function chiSquaredSurvival(x: number, dof: number): number {
  if (x <= 0) return 1;
  return gammaQ(dof / 2, x / 2);
}

function logGamma(z: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for z > 0.
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let x = c[0];
  for (let i = 1; i < g + 2; i++) x += c[i] / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/** Regularized upper incomplete gamma function Q(a, x) (series below a+1, continued fraction above). */
export function gammaQ(a: number, x: number): number {
  if (x < 0 || a <= 0) return NaN;
  if (x === 0) return 1;
  const lg = logGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let s = del;
    for (let n = 0; n < 10_000; n++) {
      ap += 1;
      del *= x / ap;
      s += del;
      if (Math.abs(del) < Math.abs(s) * 1e-16) break;
    }
    return Math.max(0, 1 - s * Math.exp(-x + a * Math.log(x) - lg));
  }
  // Lentz's continued fraction.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - lg) * h;
}
