import { describeWithBackends, expectThrowsWith, randomTensor, tf } from '@kd/test-utils';
import { afterEach, beforeEach, expect, it, type MockInstance, vi } from 'vitest';
import { collectTrainableVariables } from './collect';
import { CrdRegularizer } from './crd-regularizer';
import { UNTRAINED_WARNING_CALLS } from './regularizer';
import { VidLpRegularizer } from './vid-lp-regularizer';
import { VidRegularizer } from './vid-regularizer';

/** A one-layer "student": x·W, trained with an optimizer over `varList(...)`. */
function setup(seed: number) {
  const initial = randomTensor([3, 4], seed);
  const kernel = tf.variable(initial);
  initial.dispose();
  const x = randomTensor([5, 3], seed + 1);
  const teacher = randomTensor([5, 2], seed + 2);
  const student = (): tf.Tensor2D => tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor as tf.Tensor2D);
  return { kernel, x, teacher, student, dispose: () => tf.dispose([kernel, x, teacher]) };
}

function train(steps: number, loss: () => tf.Scalar, varList: tf.Variable[]): void {
  const optimizer = tf.train.sgd(0.01);
  for (let step = 0; step < steps; step++) optimizer.minimize(loss, false, varList);
  optimizer.dispose();
}

describeWithBackends('the untrained-head warning', () => {
  let warn: MockInstance<(...args: unknown[]) => void>;
  beforeEach(() => {
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => {
    warn.mockRestore();
  });

  it(`fires once, after ${UNTRAINED_WARNING_CALLS} training steps, when the head is left out of the optimizer`, () => {
    const { kernel, student, teacher, dispose } = setup(1);
    const head = new VidLpRegularizer({ studentDim: 4, teacherDim: 2, seed: 1 });
    const loss = (): tf.Scalar => head.loss(student(), teacher);
    train(UNTRAINED_WARNING_CALLS, loss, [kernel]);
    expect(warn).not.toHaveBeenCalled();
    train(1, loss, [kernel]);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]?.[0]);
    const fragments = [`VidLpRegularizer '${head.name}'`, 'have not changed', 'optimizer', 'collectTrainableVariables'];
    for (const fragment of [...fragments, 'warnIfUntrained: false']) {
      expect(message).toContain(fragment);
    }
    train(20, loss, [kernel]);
    expect(warn).toHaveBeenCalledTimes(1);
    head.dispose();
    dispose();
  });

  it('fires once per instance, for a head built on first use too', () => {
    const { kernel, student, teacher, dispose } = setup(2);
    const eager = new VidLpRegularizer({ studentDim: 4, teacherDim: 2, seed: 1 });
    const lazy = new VidLpRegularizer({ seed: 1 });
    // the list is taken before the lazy head exists: it can never be in it
    const varList = [kernel, ...eager.trainableVariables, ...lazy.trainableVariables];
    const loss = (): tf.Scalar => tf.add(eager.loss(student(), teacher), lazy.loss(student(), teacher));
    train(2 * UNTRAINED_WARNING_CALLS, loss, varList);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain(`'${lazy.name}'`);
    eager.dispose();
    lazy.dispose();
    dispose();
  });

  it('stays silent when the head is trained, switched off, or only evaluated', () => {
    const { kernel, student, teacher, dispose } = setup(3);
    const trained = new VidLpRegularizer({ studentDim: 4, teacherDim: 2, seed: 1 });
    const varList = collectTrainableVariables({ variables: [kernel], regularizers: [trained] });
    train(3 * UNTRAINED_WARNING_CALLS, () => trained.loss(student(), teacher), varList);
    const frozen = new VidLpRegularizer({ studentDim: 4, teacherDim: 2, seed: 1, warnIfUntrained: false });
    train(3 * UNTRAINED_WARNING_CALLS, () => frozen.loss(student(), teacher), [kernel]);
    const evaluated = new VidLpRegularizer({ studentDim: 4, teacherDim: 2, seed: 1 });
    // no gradient tape: evaluation calls are not training steps
    for (let call = 0; call < 3 * UNTRAINED_WARNING_CALLS; call++)
      tf.tidy(() => {
        evaluated.loss(student(), teacher);
      });
    expect(warn).not.toHaveBeenCalled();
    expect(frozen.getConfig()).toMatchObject({ warnIfUntrained: false });
    expect(trained.getConfig()).not.toHaveProperty('warnIfUntrained');
    const fn = 'VidRegularizer';
    expectThrowsWith(() => new VidRegularizer({ warnIfUntrained: 'no' as never }), fn, 'warnIfUntrained', 'boolean');
    expectThrowsWith(() => new VidRegularizer({ warnIfUntrianed: false } as never), fn, 'warnIfUntrained');
    [trained, frozen, evaluated].forEach((head) => head.dispose());
    dispose();
  });

  it('counts an update with a zero learning rate as training (an assignment, not a value change)', () => {
    const { kernel, student, teacher, dispose } = setup(4);
    const head = new VidLpRegularizer({ studentDim: 4, teacherDim: 2, seed: 1 });
    const optimizer = tf.train.sgd(0);
    for (let step = 0; step < 3 * UNTRAINED_WARNING_CALLS; step++) {
      optimizer.minimize(() => head.loss(student(), teacher), false, [kernel, ...head.trainableVariables]);
    }
    optimizer.dispose();
    expect(warn).not.toHaveBeenCalled();
    head.dispose();
    dispose();
  });

  it('watches only the trainable variables (CRD memory updates do not count as training the head)', () => {
    const labels = Array.from({ length: 8 }, (_, index) => index % 2);
    const sizes = { studentDim: 3, teacherDim: 3, embedDim: 4 };
    const crd = new CrdRegularizer({ ...sizes, datasetSize: 8, labels, numNegatives: 2, seed: 1 });
    const initial = randomTensor([4, 3], 5);
    const studentVector = tf.variable(initial);
    initial.dispose();
    const teacherVector = randomTensor([4, 3], 6);
    const optimizer = tf.train.sgd(0.01);
    for (let step = 0; step <= UNTRAINED_WARNING_CALLS; step++) {
      const indices = Int32Array.of(0, 1, 2, 3);
      optimizer.minimize(() => crd.loss(studentVector, teacherVector, indices), false, [studentVector]);
      crd.updateMemory();
    }
    optimizer.dispose();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('CrdRegularizer');
    tf.dispose([studentVector, teacherVector]);
    crd.dispose();
  });
});
