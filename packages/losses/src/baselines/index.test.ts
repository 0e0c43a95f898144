import { describeWithBackends, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import {
  abLoss,
  attentionTransferLoss,
  correlationCongruenceLoss,
  factorTransferLoss,
  fitNetLoss,
  fspLoss,
  nstLoss,
  pktLoss,
  rkdLoss,
  similarityPreservingLoss,
} from './index';

type Objective = (student: tf.Variable) => tf.Scalar;

/**
 * Every baseline trains a student variable toward a fixed teacher inside `optimizer.minimize`: over 100 steps
 * the live tensor count stays flat (no leak per step) and the loss goes down.
 */
describeWithBackends('baselines inside optimizer.minimize', () => {
  const mapTeacher = (): tf.Tensor => randomTensor([2, 4, 4, 3], 100);
  const smallTeacher = (): tf.Tensor => randomTensor([2, 2, 2, 3], 101);
  const vectorTeacher = (): tf.Tensor => randomTensor([4, 5], 102);
  const cases: Array<{
    name: string;
    studentShape: number[];
    teacher: () => tf.Tensor;
    objective: (t: tf.Tensor) => Objective;
  }> = [
    {
      name: 'attentionTransferLoss',
      studentShape: [2, 4, 4, 2],
      teacher: smallTeacher,
      objective: (t) => (s) => attentionTransferLoss([s], [t]),
    },
    { name: 'fitNetLoss', studentShape: [2, 4, 4, 3], teacher: mapTeacher, objective: (t) => (s) => fitNetLoss(s, t) },
    {
      name: 'similarityPreservingLoss',
      studentShape: [2, 4, 4, 2],
      teacher: mapTeacher,
      objective: (t) => (s) => similarityPreservingLoss(s, t),
    },
    {
      name: 'correlationCongruenceLoss',
      studentShape: [4, 5],
      teacher: vectorTeacher,
      objective: (t) => (s) => correlationCongruenceLoss(s, t),
    },
    { name: 'rkdLoss', studentShape: [4, 3], teacher: vectorTeacher, objective: (t) => (s) => rkdLoss(s, t) },
    {
      name: 'pktLoss',
      studentShape: [4, 3],
      teacher: vectorTeacher,
      objective: (t) => (s) => tf.mul(100, pktLoss(s, t)),
    },
    { name: 'nstLoss', studentShape: [2, 4, 4, 2], teacher: smallTeacher, objective: (t) => (s) => nstLoss(s, t) },
    { name: 'abLoss', studentShape: [2, 4, 4, 3], teacher: mapTeacher, objective: (t) => (s) => abLoss(s, t) },
    {
      name: 'factorTransferLoss',
      studentShape: [2, 4, 4, 2],
      teacher: smallTeacher,
      objective: (t) => (s) => factorTransferLoss(s, t),
    },
    {
      name: 'fspLoss',
      studentShape: [2, 4, 4, 3],
      teacher: mapTeacher,
      objective: (t) => (s) =>
        tf.tidy(() =>
          fspLoss([s, tf.avgPool(s as tf.Tensor4D, 2, 2, 'valid')], [t, tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid')]),
        ),
    },
  ];

  for (const { name, studentShape, teacher: makeTeacher, objective } of cases) {
    it(`${name}: 100 steps keep the tensor count flat and lower the loss`, () => {
      const teacher = makeTeacher();
      const initial = randomTensor(studentShape, 7);
      const student = tf.variable(initial);
      initial.dispose();
      const optimizer = tf.train.adam(0.02);
      const loss = objective(teacher);
      const first = tf.tidy(() => loss(student).dataSync()[0] as number);
      let countAfterFirstStep = 0;
      for (let step = 0; step < 100; step++) {
        optimizer.minimize(() => loss(student))?.dispose();
        if (step === 0) countAfterFirstStep = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(countAfterFirstStep);
      const last = tf.tidy(() => loss(student).dataSync()[0] as number);
      expect(last).toBeLessThan(first);
      optimizer.dispose();
      tf.dispose([teacher, student]);
    });
  }
});
