/**
 * A tiny graph model written by hand, as tensorflowjs_converter would write a SavedModel (a GraphDef in JSON plus
 * a weights manifest), so the tests need no Python:
 *
 *   images [N, 8, 8, 1] → conv 3×3 (SAME, 4 filters) → relu → mean over H, W → matmul [4, classes] → bias → logits
 */
import { seededRandom, tf } from '@kd/test-utils';

export interface GraphFixture {
  artifacts: tf.io.ModelArtifacts;
  kernel: Float32Array;
  dense: Float32Array;
  bias: Float32Array;
  classes: number;
}

const float = { type: 'DT_FLOAT' };
const ones = { list: { i: ['1', '1', '1', '1'] } };
const text = (value: string) => ({ s: Buffer.from(value).toString('base64') });
const dims = (shape: number[]) => ({ dim: shape.map((size) => ({ size: String(size) })) });
const constant = (name: string, shape: number[], dtype: 'DT_FLOAT' | 'DT_INT32' = 'DT_FLOAT') => ({
  name,
  op: 'Const',
  attr: { value: { tensor: { dtype, tensorShape: dims(shape) } }, dtype: { type: dtype } },
});

export function graphFixture(seed: number, classes = 4): GraphFixture {
  const random = seededRandom(seed);
  const values = (count: number) => Float32Array.from({ length: count }, () => random() - 0.5);
  const kernel = values(3 * 3 * 1 * 4);
  const dense = values(4 * classes);
  const bias = values(classes);
  const axes = new Int32Array([1, 2]);
  const modelTopology = {
    node: [
      { name: 'images', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims([-1, 8, 8, 1]) } } },
      constant('conv/kernel', [3, 3, 1, 4]),
      {
        name: 'conv',
        op: 'Conv2D',
        input: ['images', 'conv/kernel'],
        attr: { T: float, strides: ones, dilations: ones, padding: text('SAME'), data_format: text('NHWC') },
      },
      { name: 'relu', op: 'Relu', input: ['conv'], attr: { T: float } },
      constant('pool/axes', [2], 'DT_INT32'),
      {
        name: 'pool',
        op: 'Mean',
        input: ['relu', 'pool/axes'],
        attr: { T: float, keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } },
      },
      constant('dense/kernel', [4, classes]),
      {
        name: 'dense/matmul',
        op: 'MatMul',
        input: ['pool', 'dense/kernel'],
        attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
      },
      constant('dense/bias', [classes]),
      {
        name: 'logits',
        op: 'BiasAdd',
        input: ['dense/matmul', 'dense/bias'],
        attr: { T: float, data_format: text('NHWC') },
      },
      { name: 'probabilities', op: 'Softmax', input: ['logits'], attr: { T: float } },
    ],
    library: {},
    versions: { producer: 1 },
  };
  const weightSpecs: tf.io.WeightsManifestEntry[] = [
    { name: 'conv/kernel', shape: [3, 3, 1, 4], dtype: 'float32' },
    { name: 'pool/axes', shape: [2], dtype: 'int32' },
    { name: 'dense/kernel', shape: [4, classes], dtype: 'float32' },
    { name: 'dense/bias', shape: [classes], dtype: 'float32' },
  ];
  const parts = [kernel, axes, dense, bias];
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
    offset += part.byteLength;
  }
  return {
    artifacts: {
      modelTopology,
      weightSpecs,
      weightData: bytes.buffer,
      format: 'graph-model',
      generatedBy: 'hand-written test fixture',
      convertedBy: null,
    },
    kernel,
    dense,
    bias,
    classes,
  };
}

/** The fixture's forward pass with tf ops: `{ relu, pool, logits }`. */
export function graphReference(
  fixture: GraphFixture,
  images: tf.Tensor4D,
): { relu: tf.Tensor; pool: tf.Tensor; logits: tf.Tensor } {
  return tf.tidy(() => {
    const relu = tf.relu(tf.conv2d(images, tf.tensor4d(fixture.kernel, [3, 3, 1, 4]), 1, 'same'));
    const pool = tf.mean(relu, [1, 2]);
    const logits = tf.add(
      tf.matMul(pool as tf.Tensor2D, tf.tensor2d(fixture.dense, [4, fixture.classes])),
      tf.tensor1d(fixture.bias),
    );
    return { relu, pool, logits };
  });
}
