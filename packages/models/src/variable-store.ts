/**
 * Owns a model's variables under stable, PyTorch-like names (`layer1.0.conv1.weight`). tf.Variable names
 * must be unique per engine, so the tf names stay auto-generated and the stable name lives here: two models
 * of the same architecture can coexist, and saved weights are keyed by the stable name.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Initializer } from './initializers';
import { createRandomStream } from './random';
import type { NamedVariable } from './types';
import { assertAllocatable } from '@kd/internal';

/** Creates the variables of one model, each from its own seeded stream. */
export class VariableStore {
  readonly entries: NamedVariable[] = [];
  private readonly names = new Set<string>();

  constructor(readonly seed: number) {}

  /** A scope whose variables are named `prefix.<name>`. */
  scope(prefix: string): Scope {
    return new Scope(this, prefix);
  }

  /** Creates a float32 variable filled by `initializer` from the stream seeded by (seed, name). */
  create(name: string, shape: number[], initializer: Initializer, trainable: boolean): tf.Variable {
    if (this.names.has(name)) throw new Error(`VariableStore: duplicate variable name '${name}'`);
    this.names.add(name);
    const size = shape.reduce((a, b) => a * b, 1);
    assertAllocatable('createModel', `variable '${name}' [${shape.join(', ')}]`, size, 4);
    const values = initializer(size, createRandomStream(this.seed, name));
    const initial = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.entries.push({ name, variable, trainable });
    return variable;
  }

  dispose(): void {
    for (const entry of this.entries) entry.variable.dispose();
  }
}

/** A name prefix inside a {@link VariableStore}. */
export class Scope {
  constructor(
    readonly store: VariableStore,
    readonly prefix: string,
  ) {}

  /** A nested scope `prefix.name`. */
  child(name: string | number): Scope {
    return new Scope(this.store, this.join(String(name)));
  }

  /** Creates the variable `prefix.name`. */
  variable(name: string, shape: number[], initializer: Initializer, trainable = true): tf.Variable {
    return this.store.create(this.join(name), shape, initializer, trainable);
  }

  private join(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}.${name}`;
  }
}
