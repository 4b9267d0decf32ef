// The signature pad's strokes as data: how much was drawn, and how to keep a drawing when the
// canvas changes size (a window resized, a tablet rotated).

/** The fewest points a signature may have; fewer is a dot or a slip, not a signature. */
export const minSignaturePoints = 10;

interface Stroke<P> {
  points: P[];
}

interface Point {
  x: number;
  y: number;
}

export function pointCount(strokes: readonly Stroke<unknown>[]): number {
  return strokes.reduce((sum, stroke) => sum + stroke.points.length, 0);
}

export type SignatureProblem = 'empty' | 'too_short';

/** Why a drawing is not accepted as a signature, or null when it is. */
export function signatureProblem(isEmpty: boolean, strokes: readonly Stroke<unknown>[]): SignatureProblem | null {
  if (isEmpty || strokes.length === 0) return 'empty';
  if (pointCount(strokes) < minSignaturePoints) return 'too_short';
  return null;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * The factor that maps a drawing made at `from` into `to` keeping its proportions, so it fits
 * the new canvas without being cut off or distorted. 1 when either size is unknown.
 */
export function fitScale(from: Size, to: Size): number {
  if (from.width <= 0 || from.height <= 0 || to.width <= 0 || to.height <= 0) return 1;
  return Math.min(to.width / from.width, to.height / from.height);
}

/** The strokes with every point's position multiplied by `factor` (other fields kept). */
export function scaleStrokes<P extends Point, S extends Stroke<P>>(strokes: readonly S[], factor: number): S[] {
  if (factor === 1) return strokes.map((stroke) => ({ ...stroke, points: [...stroke.points] }));
  return strokes.map((stroke) => ({
    ...stroke,
    points: stroke.points.map((point) => ({ ...point, x: point.x * factor, y: point.y * factor })),
  }));
}
