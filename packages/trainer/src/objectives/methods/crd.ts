import { CrdRegularizer } from '@kd/losses';
import { buildHead, builtIn, channelsOf } from './shared';

/** Contrastive representation distillation (Tian et al. 2020) with memory banks over the training set. */
export const crd = builtIn('crd', {
  summary: 'contrastive representation distillation with memory banks over the training set',
  reads: { student: ['pooled'], teacher: ['pooled'] },
  options: {
    embedDim: 'width of the embeddings (default 128)',
    numNegatives: 'negatives per sample (default 16384; at most the training set size minus one)',
    temperature: 'NCE temperature (default 0.07)',
    momentum: 'memory bank momentum (default 0.5)',
  },
  referenceWeights: { gamma: 1, alpha: 0, beta: 0.8 },
  create(context, options) {
    const { where } = context;
    // Memory rows are the training set's positions: dataset indices (kept through subsets) map to rows, so a
    // few-shot subset draws its negatives among the samples it trains on.
    const rowOf = new Map<number, number>();
    context.trainIndices.forEach((index, row) => rowOf.set(index, row));
    if (rowOf.size !== context.trainIndices.length) throw new Error(`${where}: data.train.indices has duplicates`);
    const datasetSize = context.trainIndices.length;
    const numNegatives = Math.min(options.numNegatives ?? 16384, Math.max(datasetSize - 1, 1));
    const head = buildHead(
      where,
      () =>
        new CrdRegularizer({
          ...options,
          numNegatives,
          studentDim: channelsOf(context.student.pooled),
          teacherDim: channelsOf(context.teacher.pooled),
          datasetSize,
          labels: context.trainLabels,
          seed: context.seed,
        checkValues: context.checkValues,
        }),
    );
    return {
      heads: [head],
      loss: ({ student, teacher, indices }) => {
        const rows = Int32Array.from(indices, (index) => {
          const row = rowOf.get(index);
          if (row === undefined) throw new Error(`${where}: batch index ${index} is not in data.train.indices`);
          return row;
        });
        return head.loss(student.pooled, teacher.pooled, rows);
      },
      afterStep: () => head.updateMemory(),
      discardPendingUpdate: () => {
        if (head.hasPendingUpdate) head.discardPendingUpdate();
      },
    };
  },
});
