import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { syntheticDataset, tinyModel } from '../test/fixtures';
import { distillStudent } from './distill';
import { measureClassConditionalStatistics } from './eval/cmi';
import { evaluateModel } from './eval/evaluate';
import { fineTuneTeacherMcmi } from './mcmi';
import { writeCheckpoint } from './io/checkpoint';
import { MemoryStore } from './io/store';
import { learningRateAt } from './optim/schedule';
import { SgdMomentum } from './optim/sgd';
import { consoleProgress } from './report/progress';
import { trainSupervised } from './supervised';

/** Every trainer function that takes an options object rejects a misspelt key with the closest known key. */
describeWithBackends('unknown option keys', () => {
  it('are rejected before anything runs, with a did-you-mean', async () => {
    const model = tinyModel({ seed: 1 });
    const other = tinyModel({ seed: 2 });
    const dataset = syntheticDataset({ count: 8, seed: 1 });
    const loader = () => [];
    const variable = tf.tidy(() => tf.variable(tf.zeros([2])));
    try {
      expect(() => new SgdMomentum([variable], { lerningRate: 0.1 } as never)).toThrow(
        "SgdMomentum: unknown option 'lerningRate', did you mean 'learningRate'?",
      );
      await expect(evaluateModel({ model, dataset, loader, batchsize: 4 } as never)).rejects.toThrow(
        "evaluateModel: unknown option 'batchsize', did you mean 'batchSize'?",
      );
      await expect(
        measureClassConditionalStatistics({ model, dataset, loader, shufle: true } as never),
      ).rejects.toThrow("measureClassConditionalStatistics: unknown option 'shufle', did you mean 'shuffle'?");
      await expect(trainSupervised({ model, data: { train: dataset }, epoch: 1 } as never)).rejects.toThrow(
        "trainSupervised: unknown option 'epoch', did you mean 'epochs'?",
      );
      await expect(
        distillStudent({ student: model, teacher: other, data: { train: dataset }, objective: [] } as never),
      ).rejects.toThrow("distillStudent: unknown option 'objective', did you mean 'objectives'?");
      expect(() =>
        learningRateAt({ schedule: { kind: 'cosine' }, baseLearningRate: 0.1, epoch: 1, epoch_s: 2 } as never),
      ).toThrow("learningRateAt: unknown option 'epoch_s', did you mean 'epochs'?");
      expect(() => consoleProgress({ interval: 100 } as never)).toThrow(
        "consoleProgress: unknown option 'interval', did you mean 'intervalMs'?",
      );
      await expect(
        writeCheckpoint({ store: new MemoryStore(), epoch: 1, step: 1, tensors: new Map(), stat: {} } as never),
      ).rejects.toThrow("writeCheckpoint: unknown option 'stat', did you mean 'state'?");
      await expect(
        fineTuneTeacherMcmi({ model, data: { train: dataset }, collapseGuard: { minAccuracyRatoi: 0.5 } } as never),
      ).rejects.toThrow(
        "fineTuneTeacherMcmi: unknown option 'minAccuracyRatoi' in collapseGuard, did you mean 'minAccuracyRatio'?",
      );
    } finally {
      model.dispose();
      other.dispose();
      variable.dispose();
    }
  });
});
