/**
 * kd-cifar100 with the tests' `smoke-cnn` registered: the queue test starts its worker processes through this
 * file (`tsx --conditions=@kd/source src/smoke-cli.ts worker …`), so they can train the tiny model.
 */
import { main } from './main';
import { registerSmokeModel } from './smoke-model';

registerSmokeModel();
await main();
