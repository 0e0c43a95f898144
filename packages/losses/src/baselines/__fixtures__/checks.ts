import { tf } from '@kd/test-utils';
import { expect } from 'vitest';

/** Asserts the loss and its gradient with respect to `x` are finite everywhere (disposes what it creates). */
export function expectFiniteValueAndGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor): void {
  const { value, grad } = tf.valueAndGrad(f)(x);
  const values = [...Array.from(value.dataSync()), ...Array.from(grad.dataSync())];
  tf.dispose([value, grad]);
  expect(values.every(Number.isFinite), 'loss and gradient must be finite').toBe(true);
}
