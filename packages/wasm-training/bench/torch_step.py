"""Images/s of one PyTorch training step of the zoo's CIFAR architectures, the reference of `pnpm bench`.

    python3 torch_step.py --models resnet20,resnet8x4 --batch 64 --steps 3 --threads 2

Prints one JSON object: {"torch": version, "threads": n, "results": {model: {"imagesPerSecond", "params"}}}.
The architectures are the zoo's, from @kd/models' scripts/repdistiller_models.py: CIFAR ResNets (3x3 basic
blocks, 1x1 projection shortcuts), pre-activation Wide ResNets and MobileNetV2 at width 0.5, 100 classes,
32x32x3 inputs; `params` lets the caller check that both sides build the same network. One step = forward
in training mode, softmax cross-entropy, backward, SGD update, timed after one warm-up step.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F


# The models themselves: @kd/models' PyTorch copies of RepDistiller's architectures (the zoo's own).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'models' / 'scripts'))
from repdistiller_models import ARCHITECTURES  # noqa: E402

MODELS = ('resnet20', 'resnet8x4', 'wrn16_2', 'mobilenetv2')


def images_per_second(name, batch, steps):
    torch.manual_seed(1)
    model = ARCHITECTURES[name](100)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    images = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 100, (batch,))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - started) / steps
    return {'imagesPerSecond': batch / seconds, 'params': sum(p.numel() for p in model.parameters())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', default=','.join(MODELS))
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    names = options.models.split(',')
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        sys.exit(f"torch_step.py: unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    results = {name: images_per_second(name, options.batch, options.steps) for name in names}
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': results}))


if __name__ == '__main__':
    main()
