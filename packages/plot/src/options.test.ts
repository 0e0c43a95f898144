import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import {
  colorizeHeatMap,
  createImage,
  drawText,
  imageFromTensor,
  measureText,
  overlayImages,
  renderGrid,
  renderLinePlot,
  resizeHeatMap,
} from './index';

/** Every function that takes an options object rejects a misspelt key, naming the function, the key and the
 * closest known key. */
describeWithBackends('unknown option keys', () => {
  it('are rejected with a did-you-mean', () => {
    const map = { width: 2, height: 2, data: Float32Array.of(0, 0.5, 0.5, 1) };
    const image = createImage(2, 2, 3);
    const tensor = tf.zeros([2, 2, 3]);
    const series = [
      {
        name: 'a',
        points: [
          [0, 1],
          [1, 2],
        ] as Array<[number, number]>,
      },
    ];
    const rows = [{ label: 'a', images: [image] }];
    try {
      const cases: Array<[string, () => unknown, string, string]> = [
        ['colorizeHeatMap', () => colorizeHeatMap(map, { colormap: 'jet' } as never), 'colormap', 'colorMap'],
        ['resizeHeatMap', () => resizeHeatMap(map, { width: 4, heigth: 4 } as never), 'heigth', 'height'],
        ['renderLinePlot', () => renderLinePlot({ series, titel: 'x' } as never), 'titel', 'title'],
        ['renderGrid', () => renderGrid({ rows, pading: 2 } as never), 'pading', 'padding'],
        ['measureText', () => measureText('kd', { scael: 2 } as never), 'scael', 'scale'],
        ['drawText', () => drawText(image, 'kd', { x: 0, y: 0, colour: [0, 0, 0] } as never), 'colour', 'color'],
        ['overlayImages', () => overlayImages(image, image, { alfa: 0.5 } as never), 'alfa', 'alpha'],
        ['imageFromTensor', () => imageFromTensor(tensor, { hgh: 1 } as never), 'hgh', 'high'],
      ];
      for (const [fn, call, key, closest] of cases) {
        expect(call).toThrow(`${fn}: unknown option '${key}', did you mean '${closest}'?`);
      }
    } finally {
      tensor.dispose();
    }
  });
});
