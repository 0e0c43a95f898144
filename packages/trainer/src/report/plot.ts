import { encodeRgbPng } from './png';

/** One curve of {@link renderCurvesPng}. */
export interface Curve {
  name: string;
  /** y value per epoch (NaN/undefined gaps are skipped). */
  values: readonly (number | undefined)[];
  /** RGB colour. */
  color: readonly [number, number, number];
}

/**
 * Draws curves into panels side by side (one panel per group, each scaled to its own min/max) and encodes a
 * PNG. No text: the run record and the JSONL log hold the numbers; panel order and colours are documented
 * where the plot is written.
 */
export function renderCurvesPng({ panels, panelWidth = 320, height = 200 }: {
  panels: Curve[][];
  panelWidth?: number;
  height?: number;
}): Uint8Array {
  const width = panelWidth * Math.max(panels.length, 1);
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const setPixel = (x: number, y: number, color: readonly [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const offset = (Math.round(y) * width + Math.round(x)) * 3;
    rgb[offset] = color[0];
    rgb[offset + 1] = color[1];
    rgb[offset + 2] = color[2];
  };
  const line = (x0: number, y0: number, x1: number, y1: number, color: readonly [number, number, number]) => {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let index = 0; index <= steps; index++) {
      const t = index / steps;
      setPixel(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, color);
    }
  };
  const margin = 12;
  panels.forEach((curves, panelIndex) => {
    const left = panelIndex * panelWidth + margin;
    const right = (panelIndex + 1) * panelWidth - margin;
    const top = margin;
    const bottom = height - margin;
    const grey = [160, 160, 160] as const;
    line(left, top, left, bottom, grey);
    line(left, bottom, right, bottom, grey);
    const finite = curves.flatMap((curve) => curve.values.filter((value): value is number => Number.isFinite(value)));
    if (finite.length === 0) return;
    let low = Math.min(...finite);
    let high = Math.max(...finite);
    if (high - low < 1e-12) {
      low -= 0.5;
      high += 0.5;
    }
    const length = Math.max(...curves.map((curve) => curve.values.length));
    const xAt = (index: number) => left + ((right - left) * index) / Math.max(length - 1, 1);
    const yAt = (value: number) => bottom - ((bottom - top) * (value - low)) / (high - low);
    for (const curve of curves) {
      let previous: [number, number] | undefined;
      curve.values.forEach((value, index) => {
        if (value === undefined || !Number.isFinite(value)) {
          previous = undefined;
          return;
        }
        const point: [number, number] = [xAt(index), yAt(value)];
        if (previous) line(previous[0], previous[1], point[0], point[1], curve.color);
        else setPixel(point[0], point[1], curve.color);
        previous = point;
      });
    }
  });
  return encodeRgbPng({ rgb, width, height });
}
