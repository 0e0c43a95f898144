import { describeWithBackends, expectThrowsWith, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { modelTable } from '../test/model-table';
import { createModel, listModels, modelRecipe, registerModel } from './registry';
import { buildZooModel } from './zoo-model';

describeWithBackends('registry', () => {
  it('lists every model of the table, sorted, and filters by glob', () => {
    expect(listModels()).toEqual(Object.keys(modelTable).sort());
    expect(listModels('wrn*')).toEqual(['wrn16_1', 'wrn16_2', 'wrn40_1', 'wrn40_2']);
    expect(listModels('resnet?x4')).toEqual(['resnet8x4']);
    expect(listModels('shufflev?')).toEqual(['shufflev1', 'shufflev2']);
    expect(listModels('vgg1.')).toEqual([]);
  });

  it('an unknown name lists the known ones', () => {
    expectThrowsWith(
      () => createModel('resnet21', { numClasses: 10 }),
      'createModel',
      'unknown model "resnet21"',
      'resnet20',
      'shufflev2',
      'wrn40_2',
    );
  });

  it('validates the options', () => {
    expectThrowsWith(() => createModel('resnet8', { numClasses: 0 }), 'createModel', 'options.numClasses', '>= 1');
    expectThrowsWith(() => createModel('resnet8', { numClasses: 2.5 }), 'createModel', 'options.numClasses', 'integer');
    // Too large to allocate: an error with the memory it would take, not a RangeError (and nothing leaks).
    expect(() => createModel('resnet8', { numClasses: 2e9 })).toThrow(
      "createModel: variable 'fc.weight' [64, 2000000000] would need 1.280e+11 values, 512.0 GB; one tensor holds at most 2147483647 values (8.6 GB)",
    );
    expectThrowsWith(() => createModel('resnet8', { numClasses: 10, seed: -1 }), 'createModel', 'options.seed');
    expectThrowsWith(
      () => createModel('resnet8', { numClasses: 10, inputChannels: 0 }),
      'createModel',
      'options.inputChannels',
    );
    expect(() => createModel('resnet8', { numClasses: 10, sed: 3 } as never)).toThrow(
      "createModel: unknown option 'sed', did you mean 'seed'?",
    );
    expect(() =>
      buildZooModel({
        name: 'x',
        seed: 0,
        numClasses: 2,
        inputChannels: 1,
        build: () => () => ({}) as never,
        minimumInputSise: 8,
      } as never),
    ).toThrow("buildZooModel: unknown option 'minimumInputSise', did you mean 'minimumInputSize'?");
  });

  it("registers RepDistiller's recipe values with each model: lr 0.01 for MobileNetV2/ShuffleNets, FT's 0.01 for ResNet/WRN", () => {
    // train_student.py: lr 0.01 for MobileNetV2, ShuffleV1, ShuffleV2; init(): 0.01 for this list of students.
    const smallLearningRate = ['mobilenetv2', 'shufflev1', 'shufflev2'];
    const paraphraserList = [
      'resnet8',
      'resnet14',
      'resnet20',
      'resnet32',
      'resnet44',
      'resnet56',
      'resnet110',
      'resnet8x4',
      'resnet32x4',
      'wrn16_1',
      'wrn16_2',
      'wrn40_1',
      'wrn40_2',
    ];
    for (const name of Object.keys(modelTable)) {
      const recipe = modelRecipe(name);
      expect(recipe.learningRate, name).toBe(smallLearningRate.includes(name) ? 0.01 : 0.05);
      expect(recipe.mcmiLearningRate, name).toBe(smallLearningRate.includes(name) ? 0.005 : 0.05);
      expect(recipe.paraphraserLearningRate, name).toBe(paraphraserList.includes(name) ? 0.01 : undefined);
    }
    expect(modelRecipe('resnet50').paraphraserLearningRate).toBeUndefined();
    expect(modelRecipe('not-registered')).toEqual({ learningRate: 0.05, mcmiLearningRate: 0.05 });
  });

  it('the same seed gives the same weights, another seed different ones', () => {
    const a = createModel('resnet8', { numClasses: 10, seed: 7 });
    const b = createModel('resnet8', { numClasses: 10, seed: 7 });
    const c = createModel('resnet8', { numClasses: 10, seed: 8 });
    a.namedVariables.forEach((entry, index) => {
      const same = Array.from(b.namedVariables[index]!.variable.dataSync());
      expect(same, entry.name).toEqual(Array.from(entry.variable.dataSync()));
    });
    const differing = a.trainableVariables.filter((variable, index) => {
      const other = c.trainableVariables[index]!.dataSync();
      return variable.dataSync().some((value, position) => value !== other[position]);
    });
    // Everything drawn at random differs (convs and the fc); BN γ = 1 and β = 0 are constants.
    const random = a.namedVariables.filter((entry) => entry.trainable && !/bn\d?\.|downsample\.1\./.test(entry.name));
    expect(differing).toHaveLength(random.length);
    [a, b, c].forEach((model) => model.dispose());
  });

  it('inputChannels = 1 only changes the stem conv: 3·3·16·(3 − 1) = 288 fewer parameters', () => {
    const rgb = createModel('resnet8', { numClasses: 10 });
    const gray = createModel('resnet8', { numClasses: 10, inputChannels: 1 });
    expect(rgb.countParams() - gray.countParams()).toBe(288);
    expect(gray.inputChannels).toBe(1);
    const images = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    const output = gray.apply(images, { training: false });
    expect(output.logits.shape).toEqual([1, 10]);
    tf.dispose([images, output.logits, ...output.features, ...output.preactivations]);
    rgb.dispose();
    gray.dispose();
  });

  it('registerModel adds a factory; names are unique', () => {
    registerModel('resnet8-registered', ({ name: _name, ...options }) => createModel('resnet8', options));
    const model = createModel('resnet8-registered', { numClasses: 4, seed: 1 });
    expect(model.countParams()).toBe(78_042 - 6 * 65);
    model.dispose();
    expect(listModels('resnet8-*')).toEqual(['resnet8-registered']);
    expectThrowsWith(
      () => registerModel('resnet8', (options) => createModel('resnet20', options)),
      'registerModel',
      "'resnet8' is already registered",
    );
    expectThrowsWith(
      () => registerModel('bad name', (options) => createModel('resnet20', options)),
      'registerModel',
      'name',
    );
    expect(modelRecipe('resnet8-registered')).toEqual({ learningRate: 0.05, mcmiLearningRate: 0.05 });
    registerModel('resnet8-slow', ({ name: _name, ...options }) => createModel('resnet8', options), {
      learningRate: 0.01,
      paraphraserLearningRate: 0.001,
    });
    expect(modelRecipe('resnet8-slow')).toEqual({
      learningRate: 0.01,
      mcmiLearningRate: 0.05,
      paraphraserLearningRate: 0.001,
    });
    expect(() =>
      registerModel('resnet8-typo', (options) => createModel('resnet8', options), { learningRat: 0.01 } as never),
    ).toThrow("registerModel: unknown option 'learningRat' in recipe, did you mean 'learningRate'?");
    expectThrowsWith(
      () => registerModel('resnet8-zero', (options) => createModel('resnet8', options), { learningRate: 0 }),
      'registerModel',
      'recipe.learningRate',
    );
    expect(listModels('resnet8-typo')).toEqual([]);
  });
});
