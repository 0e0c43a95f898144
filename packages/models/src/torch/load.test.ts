/**
 * Checkpoints written by PyTorch itself (src/__fixtures__/torch, made by scripts/make-torch-fixtures.py):
 * each architecture in the zip and legacy formats inside RepDistiller's {'model': ...} wrapper and as
 * safetensors, in float32/float16/bfloat16/float64, must give PyTorch's eval-mode logits.
 */
import { describeWithBackends, tf } from '@kd/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectLogitsMatch, fixtureBytes, fixtureLogits, manifest } from '../../test/torch-fixtures';
import { createModel } from '../registry';
import type { ZooModel } from '../zoo-model';
import { loadTorchStateDict } from './load';

describeWithBackends('loadTorchStateDict: PyTorch fixtures', () => {
  const models = new Map<string, ZooModel>();
  beforeAll(() => {
    for (const name of Object.keys(manifest.models))
      models.set(name, createModel(name as 'resnet8', { numClasses: manifest.numClasses }));
  });
  afterAll(() => {
    for (const model of models.values()) model.dispose();
  });

  for (const [name, fixture] of Object.entries(manifest.models)) {
    it(`${name}: the script built the zoo architecture (${fixture.parameters} parameters) and its random start is far from the checkpoint`, () => {
      const model = models.get(name) as ZooModel;
      expect(model.countParams()).toBe(fixture.parameters);
      const initial = fixtureLogits(model);
      // The comparison below can fail: a model that kept its initial weights is off by more than 1e-2.
      expect(
        Math.max(...fixture.logits.map((value, index) => Math.abs(value - (initial[index] as number)))),
      ).toBeGreaterThan(1e-2);
    });
    for (const [kind, { file, dtype }] of Object.entries(fixture.files)) {
      it(`${name}: ${file} (${dtype}) gives PyTorch's logits`, () => {
        const model = models.get(name) as ZooModel;
        // Zero every variable first, so this file's load (not an earlier one) has to produce the logits.
        tf.tidy(() => model.namedVariables.forEach(({ variable }) => variable.assign(tf.zerosLike(variable))));
        const result = loadTorchStateDict(model, fixtureBytes(file));
        expect(result.format).toBe(kind === 'safetensors' ? 'safetensors' : file.includes('legacy') ? 'legacy' : 'zip');
        expect(result.entry).toBe(
          kind === 'zip' || kind === 'legacy' ? 'model' : kind === 'state_dict' ? 'state_dict' : '',
        );
        expect(result.loadedKeys).toEqual(model.namedVariables.map((variable) => variable.name));
        expect(result.missingKeys.concat(result.unexpectedKeys)).toEqual([]);
        expectLogitsMatch(fixtureLogits(model), fixture.logits, file);
      });
    }
  }
});
