/** Numbers given as command-line flags (--jobs 4, --rate 2.5). Pure. */
import { UserError } from './errors.js';

/** Plain decimal notation, as people type a count or a rate. */
const DECIMAL = /^\d+(?:\.\d+)?$/;

export interface NumberFlagRule {
  /** Only whole numbers. */
  whole?: boolean;
  /** The smallest value allowed (inclusive); without it, the number must be above 0. */
  min?: number;
  /** A value to show in the hint: `e.g. --jobs 4`. */
  example: string;
  /** Said after the example in the hint, e.g. what the number counts. */
  note?: string;
}

/**
 * The number a flag was given (undefined when it was not given), or bad input (exit 2) naming the
 * flag. Only plain decimals count: Number() also takes "0x10", "1e3", "", " " and "Infinity", none
 * of which a user means as a count.
 */
export function numberFlag(flag: string, value: string, rule: NumberFlagRule): number;
export function numberFlag(flag: string, value: string | undefined, rule: NumberFlagRule): number | undefined;
export function numberFlag(flag: string, value: string | undefined, rule: NumberFlagRule): number | undefined {
  if (value === undefined) return undefined;
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  const inRange = rule.min === undefined ? n > 0 : n >= rule.min;
  if (!Number.isFinite(n) || !inRange || (rule.whole && !Number.isInteger(n))) {
    const kind = rule.whole ? 'a whole number' : 'a number';
    const range = rule.min === undefined ? 'above 0' : `of at least ${rule.min}`;
    throw new UserError('BAD_OPTION', `${flag} must be ${kind} ${range}, not "${value}".`, {
      hint: `e.g. ${flag} ${rule.example}${rule.note ? ` (${rule.note})` : ''}`,
    });
  }
  return n;
}
