import { describeWithBackends, expectArraysClose, expectThrowsWith, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { SgdMomentum } from './sgd';

describeWithBackends('SgdMomentum', () => {
  it('matches PyTorch SGD (momentum, coupled weight decay) computed by hand over three steps', () => {
    const initial = [0.5, -1.5, 2];
    const weights = tf.tidy(() => tf.variable(tf.tensor1d(initial), true));
    const optimizer = new SgdMomentum([weights], { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 });
    // loss = Σ w² / 2 + Σ c·w, gradient g = w + c
    const c = [0.3, -0.2, 0.1];
    const w = [...initial];
    const v = [0, 0, 0];
    for (let step = 0; step < 3; step++) {
      const grads = tf.tidy(() =>
        tf.variableGrads(() => {
          const constant = tf.tensor1d(c);
          return tf.add(tf.div(tf.sum(tf.square(weights)), 2), tf.sum(tf.mul(constant, weights))) as tf.Scalar;
        }, [weights]),
      );
      optimizer.applyGradients(grads.grads);
      grads.value.dispose();
      tf.dispose(grads.grads);
      for (let index = 0; index < 3; index++) {
        const gradient = (w[index] as number) + (c[index] as number) + 0.01 * (w[index] as number);
        v[index] = 0.9 * (v[index] as number) + gradient;
        w[index] = (w[index] as number) - 0.1 * (v[index] as number);
      }
    }
    expectArraysClose(weights.dataSync(), w, { rtol: 1e-5, atol: 1e-6 });
    expectArraysClose(optimizer.getSlots()[0]!.dataSync(), v, { rtol: 1e-5, atol: 1e-6 });
    optimizer.dispose();
    weights.dispose();
  });

  it('touches only its own variables and skips variables without a gradient', () => {
    const own = tf.tidy(() => tf.variable(tf.tensor1d([1, 2]), true));
    const other = tf.tidy(() => tf.variable(tf.tensor1d([3, 4]), true));
    const optimizer = new SgdMomentum([own, other], { learningRate: 0.5 });
    const gradient = tf.tensor1d([1, 1]);
    optimizer.applyGradients({ [own.name]: gradient });
    expectArraysClose(other.dataSync(), [3, 4]);
    // w − η·(g + 5e-4·w)
    expectArraysClose(own.dataSync(), [1 - 0.5 * (1 + 5e-4), 2 - 0.5 * (1 + 1e-3)]);
    gradient.dispose();
    optimizer.dispose();
    own.dispose();
    other.dispose();
  });

  it('restores slots and rejects bad options', () => {
    const weights = tf.tidy(() => tf.variable(tf.zeros([2, 2]), true));
    const optimizer = new SgdMomentum([weights], { learningRate: 0.1 });
    const slot = tf.ones([2, 2]);
    optimizer.setSlots([slot]);
    expect(Array.from(optimizer.getSlots()[0]!.dataSync())).toEqual([1, 1, 1, 1]);
    const wrong = tf.ones([3]);
    expectThrowsWith(() => optimizer.setSlots([wrong]), 'SgdMomentum.setSlots', 'shape');
    expectThrowsWith(() => new SgdMomentum([weights], { learningRate: Number.NaN }), 'SgdMomentum', 'learningRate');
    expectThrowsWith(() => new SgdMomentum([weights, weights], { learningRate: 1 }), 'SgdMomentum', 'twice');
    tf.dispose([slot, wrong]);
    optimizer.dispose();
    weights.dispose();
  });
});
