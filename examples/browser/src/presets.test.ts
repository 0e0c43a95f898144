import { describeWithBackends } from '@kd/test-utils';
import { defaultConfig } from '@kd-example/quickstart/src/quickstart';
import { expect, it } from 'vitest';
import { PRESET_NAMES, configFromQuery, presetConfig } from './presets';

describeWithBackends('presets', () => {
  it("'full' trains the teachers with the quick start's own settings", () => {
    const full = presetConfig('full');
    const shared = {
      trainSize: full.trainSize,
      testSize: full.testSize,
      teacher: full.teacher,
      teacherEpochs: full.teacherEpochs,
      teacherLearningRate: full.teacherLearningRate,
      fineTuneEpochs: full.mcmiEpochs,
      fineTuneLearningRate: full.mcmiLearningRate,
      lambda: full.lambda,
      batchSize: full.batchSize,
      seed: full.seed,
      camImages: full.camImages,
    };
    for (const [key, value] of Object.entries(shared)) {
      expect([key, (defaultConfig as unknown as Record<string, unknown>)[key]]).toEqual([key, value]);
    }
  });

  it('grow from smoke to full in training images × epochs, within the bundle', () => {
    const work = PRESET_NAMES.map((name) => {
      const config = presetConfig(name);
      expect(config.trainSize).toBeLessThanOrEqual(3000);
      expect(config.testSize).toBeLessThanOrEqual(1000);
      return config.trainSize * (config.teacherEpochs + config.mcmiEpochs + 2 * config.studentEpochs);
    });
    // smoke: 192 × (2 + 2 + 2·2) = 1536 images; full: 3000 × (8 + 2 + 2·3) = 48000.
    expect(work[0]).toBe(1536);
    expect(work[work.length - 1]).toBe(48000);
    expect([...work].sort((a, b) => a - b)).toEqual(work);
  });

  it('URL fields override a preset, and bad ones are named', () => {
    const config = configFromQuery(
      new URLSearchParams('preset=smoke&trainSize=48&lambda=0.5&student=resnet8&backend=wasm'),
    );
    expect(config).toEqual({ ...presetConfig('smoke'), trainSize: 48, lambda: 0.5, student: 'resnet8' });
    expect(() => configFromQuery(new URLSearchParams('preset=tiny'))).toThrow(
      "presetConfig: unknown preset 'tiny' (known: smoke, minute, five-minutes, full)",
    );
    expect(() => configFromQuery(new URLSearchParams('preset=smoke&batchSize=1.5'))).toThrow(
      "configFromQuery: batchSize must be a positive integer, got '1.5'",
    );
    expect(() => configFromQuery(new URLSearchParams('preset=smoke&testSize=2000'))).toThrow(
      'configFromQuery: the bundle holds 3000 training and 1000 test images',
    );
  });
});
