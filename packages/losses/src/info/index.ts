export { kdLoss, type KdLossOptions } from './kd-loss';
export { crossEntropy } from './cross-entropy';
export { classCentroids } from './class-centroids';
export {
  conditionalMutualInformation,
  CENTROID_FLOOR,
  type ConditionalMutualInformationOptions,
} from './conditional-mutual-information';
export { mcmiLoss, type McmiLossOptions } from './mcmi-loss';
