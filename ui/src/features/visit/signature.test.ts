import { describe, expect, it } from 'vitest';
import { fitScale, minSignaturePoints, pointCount, scaleStrokes, signatureProblem } from './signature';

const point = (x: number, y: number) => ({ x, y, pressure: 0.5, time: 0 });
const stroke = (n: number) => ({ penColor: 'black', points: Array.from({ length: n }, (_, i) => point(i, i)) });

describe('signatureProblem', () => {
  it('refuses a blank pad', () => {
    expect(signatureProblem(true, [])).toBe('empty');
    expect(signatureProblem(false, [])).toBe('empty');
  });

  it('refuses a dot or a slip of fewer points than a signature has', () => {
    expect(signatureProblem(false, [stroke(1), stroke(minSignaturePoints - 2)])).toBe('too_short');
    expect(signatureProblem(false, [stroke(4), stroke(minSignaturePoints - 4)])).toBeNull();
    expect(pointCount([stroke(3), stroke(4)])).toBe(7);
  });
});

describe('keeping a drawing through a resize', () => {
  it('scales to fit the new size, keeping proportions', () => {
    expect(fitScale({ width: 800, height: 320 }, { width: 400, height: 160 })).toBe(0.5);
    expect(fitScale({ width: 800, height: 320 }, { width: 1000, height: 320 })).toBe(1);
    expect(fitScale({ width: 0, height: 0 }, { width: 400, height: 160 })).toBe(1);
  });

  it('moves every point and keeps the rest of each stroke', () => {
    const scaled = scaleStrokes([{ penColor: 'black', points: [point(10, 20)] }], 0.5);
    expect(scaled).toEqual([{ penColor: 'black', points: [{ x: 5, y: 10, pressure: 0.5, time: 0 }] }]);
  });

  it('copies rather than shares the strokes it was given', () => {
    const original = [stroke(2)];
    const same = scaleStrokes(original, 1);
    expect(same).toEqual(original);
    expect(same[0]).not.toBe(original[0]);
  });
});
